"""The authors' DRNSeg written independently (the speed baseline) equals drn_mm's model on the same
weights; interleaved timing and its ratio table; the precision benchmark tool's JSON."""
import json

import pytest
import torch
from tool_runs import REPO, run, tool_command

from drn_mm.apis import build_model, read_config
from drn_mm.benchmark.interleaved import interleaved_times, ratio_table, ratios
from drn_mm.benchmark.reference_model import AuthorsDRNSeg, authors_state_dict

CONFIG = f'{REPO}/configs/drn/drn_d_22_cityscapes.py'


@pytest.mark.parametrize('arch', ['D-22', 'C-26', 'D-54', 'C-58'])
def test_authors_model_equals_drn_mm_in_float64(arch):
    cfg = read_config(CONFIG)
    cfg.model.backbone.update(arch=arch, norm_cfg=dict(type='BN'))
    model = build_model(cfg).double().eval()
    authors = AuthorsDRNSeg(arch)
    authors.load_state_dict(authors_state_dict(model.state_dict(), arch[0]),
                            strict=True)  # every key, their names
    authors.double().eval()
    x = torch.randn(1, 3, 40, 56, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = torch.log_softmax(model(x, mode='tensor'), dim=1)
        theirs = authors(x)
    # float64: the two differ only in the order of sums (measured 4e-15)
    assert float((ours - theirs).abs().max()) < 1e-10


def test_interleaved_ratios_and_the_unreliable_flag():
    calls = []
    samples = interleaved_times({
        'a': lambda: calls.append('a'),
        'b': lambda: calls.append('b')
    }, repeats=4, warmup=1)
    assert calls[:2] == ['a', 'b'] and calls[2:] == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    assert all(len(v) == 4 for v in samples.values())
    rows = ratios({
        'base': [1.0, 1.0, 1.0],
        'steady': [0.5, 0.5, 0.5],
        'noisy': [0.5, 1.0, 0.25]
    }, 'base')
    assert rows['steady']['speedup'] == 2.0 and rows['steady']['reliable']
    assert rows['noisy']['speedup'] == 4.0 and not rows['noisy']['reliable']
    assert '**unreliable**' in '\n'.join(ratio_table(rows, 'base'))


def test_precision_tool_writes_isa_flags_spreads_and_agreement(tmp_path):
    run(
        tool_command('benchmark_precision.py', CONFIG, '--size', '64', '128', '--repeats', '3',
                     '--paths', 'authors', 'fp32', 'bf16', '--out-dir', tmp_path))
    result = json.load(open(tmp_path / 'precision_benchmark.json'))
    assert set(result['cpu']) >= {'cpu', 'threads', 'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16'}
    assert result['baseline'] == 'authors fp32 eager'
    rows = result['rows']
    assert set(rows) == {'authors fp32 eager', 'drn_mm fp32', 'drn_mm bf16'}
    assert all(len(result['samples_ms'][k]) == 3 for k in rows)
    assert {'speedup', 'speedup_spread_pct', 'reliable'} <= set(rows['drn_mm bf16'])
    assert 0 <= rows['drn_mm bf16']['label_agreement_vs_fp32'] <= 1
    assert result['aten_cpu_capability'] and set(
        result['isa_limits']) == {'ONEDNN_MAX_CPU_ISA', 'ATEN_CPU_CAPABILITY'}
    assert (tmp_path / 'precision_benchmark.md').read_text().startswith('# Inference paths')

"""The performance issue's targets (docs/benchmark_targets.json) computed from benchmark results."""
import os.path as osp

import pytest

from drn_mm.benchmark import add_ratios
from drn_mm.benchmark.targets import check_targets, load_targets, targets_markdown

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPEC = load_targets(osp.join(REPO, 'docs', 'benchmark_targets.json'))
D22, D38 = 'drn_d_22_cityscapes', 'drn_d_38_cityscapes'
FCN = 'fcn_r50-d8_4xb2-40k_cityscapes-512x1024'


def infer(model, mode, ips, batch=1, status='ok'):
    return dict(model=model, mode=mode, batch=batch, status=status, throughput_ips=ips,
                peak_mem_mb=None)


def train(model, mode, loop, ips, status='ok'):
    return dict(model=model, mode=mode, loop=loop, status=status, throughput_ips=ips,
                peak_mem_mb=None)


def results(inference, training=()):
    env = dict(device='cuda', device_name='NVIDIA H100 80GB HBM3')
    return dict(meta=dict(environment=env), inference=list(inference), training=list(training))


def by_key(targets):
    return {t['key']: t for t in targets}


def test_all_targets_from_rows():
    res = results(
        [
            infer(D22, 'fp32', 80),
            infer(D22, 'amp_cl', 190),
            infer(D22, 'amp_cl_compile', 210),
            infer(D22, 'amp_cl_compile', 400, batch=4),  # batched rows do not count
            infer(D22, 'amp_cl_fold', 999, status='error'),  # nor failed ones
            infer(D38, 'fp32', 60),
            infer(D38, 'amp_cl_compile', 140),
            infer(FCN, 'fp32', 43),
            infer(FCN, 'amp_cl_compile', 120)
        ],
        [
            train(D22, 'fp32', 'runner', 100),
            train(D22, 'amp_cl', 'runner', 240),
            train(D22, 'fp32', 'train_py', 98),
            train(D22, 'amp_cl', 'train_py', 230),
            train(D22, 'amp_cl', 'bare', 260),
            train(D22, 'fp32', 'bare', 105)
        ])
    t = by_key(check_targets(res, SPEC))
    assert t['d22_fastest_vs_fp32']['value'] == pytest.approx(210 / 80)
    assert t['d22_fastest_vs_fp32']['met'] is True and t['d22_fastest_vs_fp32']['threshold'] == 2.5
    assert 'amp_cl_compile b1' in t['d22_fastest_vs_fp32']['detail']
    assert t['d22_fastest_vs_fcn']['value'] == pytest.approx(210 / 120)
    assert t['d22_fastest_vs_fcn']['met'] is True
    assert t['d38_fastest_vs_fcn']['value'] == pytest.approx(140 / 120)
    assert t['d38_fastest_vs_fcn']['met'] is False  # 1.17 < 1.2
    # training: the whole Runner (train_py) is preferred over model.train_step
    assert t['d22_runner_vs_bare']['value'] == pytest.approx(230 / 260)
    assert t['d22_runner_vs_bare']['met'] is False  # 0.885 < 0.9
    assert 'train_py amp_cl' in t['d22_runner_vs_bare']['detail']
    assert t['d22_runner_amp_vs_fp32']['value'] == pytest.approx(230 / 98)
    assert all(x['device'] == 'NVIDIA H100 80GB HBM3 (cuda)' for x in t.values())
    md = targets_markdown(list(t.values()))
    assert '| 2.62x | >= 2.5x | yes |' in md and '| 0.88x | >= 0.9x | NO |' in md


def test_missing_rows_are_not_measured():
    t = by_key(
        check_targets(
            results([infer(D22, 'fp32', 80), infer(D22, 'amp_cl', 210)],
                    [train(D22, 'fp32', 'runner', 100)]), SPEC))
    assert t['d22_fastest_vs_fp32']['met'] is True
    for key in ('d22_fastest_vs_fcn', 'd38_fastest_vs_fcn', 'd22_runner_vs_bare',
                'd22_runner_amp_vs_fp32'):
        assert t[key]['value'] is None and t[key]['met'] is None
        assert t[key]['detail'].startswith('needs ')
    assert FCN in t['d22_fastest_vs_fcn']['detail']
    assert 'not measured' in targets_markdown(list(t.values()))


def test_add_ratios_adds_the_targets():
    res = results([infer(D22, 'fp32', 80), infer(FCN, 'fp32', 40)])
    res['models'] = [
        dict(name=D22, config=f'configs/drn/{D22}.py', params=1, flops=dict(gflops=1.0)),
        dict(name=FCN, config=f'configs/baselines/{FCN}.py', params=3, flops=dict(gflops=3.0))
    ]
    add_ratios(res, targets=SPEC)
    assert by_key(res['targets'])['d22_fastest_vs_fcn']['value'] == pytest.approx(2.0)


def test_runs_without_the_target_models_have_no_targets():
    assert check_targets(results([infer('resnet18_8xb32_in1k', 'fp32', 80)]), SPEC) == []


def test_a_target_file_with_an_unknown_kind_is_an_error(tmp_path):
    path = tmp_path / 'targets.json'
    path.write_text('{"targets": [{"key": "x", "kind": "fastest_vs_nothing", "model": "m", '
                    '"threshold": 1, "description": "d"}]}')
    with pytest.raises(ValueError, match='fastest_vs_nothing|kind'):
        load_targets(str(path))

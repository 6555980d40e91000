"""tools/gpu_bench.sh --dry-run: every step of the one-call GPU benchmark, on the CPU at a tiny
size (set-up skipped: the suite's environment is there), ends in the JSON and markdown summary."""
import json
import os
import subprocess

import pytest
from tool_runs import REPO


@pytest.mark.slow
def test_gpu_bench_dry_run_writes_the_table_and_the_amp_training(tmp_path):
    out = tmp_path / 'gpu'
    env = dict(os.environ, OUT=str(out), SKIP_SETUP='1')
    result = subprocess.run(['bash', 'tools/gpu_bench.sh', '--dry-run'], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=1500)
    log = (out / 'gpu_bench.log').read_text() if (out / 'gpu_bench.log').exists() else ''
    assert result.returncode == 0, (result.stderr[-3000:], log[-3000:])
    summary = json.loads((out / 'gpu_bench.json').read_text())
    assert summary['dry_run'] is True and summary['environment']['device'] == 'cpu'
    models = {
        'drn_d_22_cityscapes', 'drn_d_38_cityscapes', 'drn_d_105_cityscapes',
        'fcn_r50-d8_4xb2-40k_cityscapes-512x1024'
    }
    inference = {(r['model'], r['mode']) for r in summary['rows'] if r['kind'] == 'inference'}
    assert inference == {(m, mode) for m in models for mode in ('fp32', 'amp_cl')}
    training = {(r['model'], r['mode']) for r in summary['rows'] if r['kind'] == 'training'}
    assert training == {(m, 'fp32') for m in models}
    assert all(r['status'] == 'ok' and r['ms'] > 0 for r in summary['rows']), summary['rows']
    amp = summary['amp_training']
    assert amp['status'] == 'ok' and amp['iterations'] == 2 and amp['checkpoint'], amp
    markdown = (out / 'gpu_bench.md').read_text()
    assert 'dry run on the CPU' in markdown and '| inference | drn_d_105_cityscapes |' in markdown

"""End to end through tools/train.py and tools/test.py on generated Cityscapes-layout data."""
import glob
import json
import os.path as osp

import pytest
import torch
from tool_runs import DEMO_CONFIG, run_tool, tiny_options


def last_json_line(stdout):
    return json.loads([line for line in stdout.splitlines() if line.startswith('{')][-1])


@pytest.fixture(scope='module')
def trained(tmp_path_factory, demo_cityscapes_data):
    work = tmp_path_factory.mktemp('work')
    run_tool('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options',
             *tiny_options(demo_cityscapes_data))
    return str(work)


def test_train_writes_checkpoints_logs_and_validates(trained):
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(trained, 'iter_*.pth'))) == [
        'iter_2.pth', 'iter_4.pth'
    ]
    with open(osp.join(trained, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_4.pth')
    logs = glob.glob(osp.join(trained, '*', '*.log'))
    text = open(logs[0]).read()
    assert 'Iter(train) [4/4]' in text and 'mIoU' in text
    checkpoint = torch.load(osp.join(trained, 'iter_4.pth'), map_location='cpu',
                            weights_only=True)  # drn_mm allow-lists mmengine's types
    assert checkpoint['meta']['iter'] == 4
    assert 'backbone.stem.0.weight' in checkpoint['state_dict']


def test_test_tool_reports_miou_and_writes_predictions(trained, demo_cityscapes_data, tmp_path):
    out = tmp_path / 'preds'
    result = run_tool('test.py', DEMO_CONFIG, osp.join(trained, 'iter_4.pth'), '--work-dir',
                      tmp_path / 'test', '--out', out, '--metrics-out', tmp_path / 'm.json',
                      '--cfg-options', *tiny_options(demo_cityscapes_data))
    metrics = last_json_line(result.stdout)
    assert set(metrics) >= {'mIoU', 'aAcc', 'mAcc'}
    with open(tmp_path / 'm.json') as f:
        assert json.load(f) == metrics  # the file is the metrics alone, valid JSON
    assert 0.0 <= metrics['mIoU'] <= 100.0
    assert len(glob.glob(str(out / '*.png'))) == 3  # one label map per val image
    # per-class IoU table in the log
    log = glob.glob(str(tmp_path / 'test' / '*' / '*.log'))[0]
    assert 'traffic sign' in open(log).read()


def test_tta_multiscale(trained, demo_cityscapes_data, tmp_path):
    result = run_tool('test.py', DEMO_CONFIG, osp.join(trained, 'iter_4.pth'), '--tta',
                      '--work-dir', tmp_path, '--cfg-options', *tiny_options(demo_cityscapes_data))
    metrics = last_json_line(result.stdout)
    assert 0.0 <= metrics['mIoU'] <= 100.0
    log = open(glob.glob(str(tmp_path / '*' / '*.log'))[0]).read()
    assert 'DRNTTAModel' in log or 'TestTimeAug' in log


@pytest.mark.slow
def test_resume_continues_from_last_checkpoint(demo_cityscapes_data, tmp_path):
    run_tool('train.py', DEMO_CONFIG, '--work-dir', tmp_path, '--cfg-options',
             *tiny_options(demo_cityscapes_data, max_iters=2))
    result = run_tool('train.py', DEMO_CONFIG, '--work-dir', tmp_path, '--resume', '--cfg-options',
                      *tiny_options(demo_cityscapes_data, max_iters=4))
    text = result.stdout + result.stderr
    assert 'resumed' in text.lower() and 'iter_2.pth' in text
    assert 'Iter(train) [3/4]' in text and 'Iter(train) [1/4]' not in text
    assert osp.exists(tmp_path / 'iter_4.pth')


def test_wrong_checkpoint_is_a_clear_error(demo_cityscapes_data, tmp_path):
    bad = tmp_path / 'other.pth'
    torch.save({'state_dict': {'backbone.stem.0.weight': torch.zeros(3, 3, 7, 7)}}, bad)
    result = run_tool('test.py', DEMO_CONFIG, bad, '--work-dir', tmp_path, '--cfg-options',
                      *tiny_options(demo_cityscapes_data), check=False)
    assert result.returncode != 0
    assert 'other.pth does not fit EncoderDecoder' in result.stderr

"""The authors' Cityscapes checkpoints (base.K / seg / up layout) evaluate as they are: through
drn_mm's tools/test.py and mmseg's own tools/test.py alike (the config's DRNCheckpointHook
converts the file), and as drn://FILE."""
import glob
import json
import os.path as osp
import sys

import mmseg
import pytest
import torch
from helpers import to_reference_seg_layout
from mmengine.config import Config
from mmengine.registry import DefaultScope
from tool_runs import REPO, run, run_tool, tiny_options


@pytest.mark.parametrize('config, style, options', [
    ('drn_d_22_cityscapes.py', 'D',
     ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16']),
    ('drn_c_26_cityscapes.py', 'C',
     ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16']),
])
@pytest.mark.slow
def test_reference_layout_gives_same_miou_as_drn_mm_layout(tmp_path, demo_cityscapes_data, config,
                                                           style, options):
    from mmseg.registry import MODELS
    path = osp.join(REPO, 'configs', 'drn', config)
    cfg = Config.fromfile(path)
    cfg.merge_from_dict({o.split('=')[0]: json.loads(o.split('=')[1]) for o in options})
    cfg.model.backbone.norm_cfg = dict(type='BN')
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    for m in model.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = model.state_dict()
    ours, theirs = tmp_path / 'drn_mm.pth', tmp_path / f'drn_{style.lower()}_cityscapes.pth'
    torch.save({'state_dict': state}, ours)
    torch.save(to_reference_seg_layout(state, style), theirs)
    opts = [
        o for o in tiny_options(demo_cityscapes_data)
        if not o.startswith(('model.', 'param_scheduler'))
    ]
    opts += options + ['model.backbone.norm_cfg.type=BN']
    metrics = []
    for checkpoint in (ours, theirs):
        result = run_tool('test.py', path, checkpoint, '--work-dir', tmp_path / 'w',
                          '--cfg-options', *opts)
        metrics.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert metrics[0] == metrics[1]
    assert metrics[0]['aAcc'] > 0
    # mmseg's own tools/test.py (mmengine's own Runner, built from the same config): the plain
    # file is converted by the config's DRNCheckpointHook, drn://FILE by drn_mm's scheme; both
    # give drn_mm's tools/test.py's metrics
    mmseg_test = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')
    for name, checkpoint in (('mmseg_plain', str(theirs)), ('mmseg', 'drn://' + str(theirs))):
        result = run([
            sys.executable, mmseg_test, path, checkpoint, '--work-dir',
            str(tmp_path / name), '--cfg-options', *opts
        ])
        log = open(glob.glob(str(tmp_path / name / '*' / '*.log'))[0]).read()
        assert 'missing keys' not in log and 'unexpected key' not in log
        line = [ln for ln in log.splitlines() if 'Iter(test)' in ln and 'mIoU:' in ln][-1]
        for key in ('aAcc', 'mIoU', 'mAcc'):  # mmseg logs them rounded to 2 decimals
            assert f'{key}: {metrics[0][key]:.4f}' in line, (key, line, result.returncode)

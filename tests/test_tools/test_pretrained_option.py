"""`tools/train.py CONFIG --pretrained drn_c_42-*.pth` starts from the authors' ImageNet weights."""
import os.path as osp

import pytest
import torch
from helpers import named_by_sha, reference_checkpoint_from_key_table
from mmengine.registry import DefaultScope
from tool_runs import REPO

from drn_mm.apis import load_config


def test_pretrained_sets_backbone_init_and_loads_authors_file(tmp_path, official_keys):
    from mmseg.registry import MODELS
    state = reference_checkpoint_from_key_table(official_keys['drn_c_42'])
    path = tmp_path / 'drn_c_42.pth'
    torch.save(state, path)
    path = named_by_sha(path)  # drn_c_42-<its digest>.pth, the authors' naming (checked)
    cfg = load_config(
        osp.join(REPO, 'configs', 'drn', 'drn_c_42_cityscapes.py'), pretrained=str(path))
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=path)
    assert 'runner_type' not in cfg  # mmengine's own Runner
    assert cfg.default_hooks.checkpoint.type == 'DRNCheckpointHook'
    cfg.model.backbone.norm_cfg = dict(type='BN')
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.stem[0].weight, state['conv1.weight'])
    assert torch.equal(model.backbone.layer6[2].bn2.running_var, state['layer6.2.bn2.running_var'])


def test_missing_pretrained_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='--pretrained checkpoint not found: .*nope.pth'):
        load_config(
            osp.join(REPO, 'configs', 'drn', 'drn_c_42_cityscapes.py'),
            pretrained=str(tmp_path / 'nope.pth'))

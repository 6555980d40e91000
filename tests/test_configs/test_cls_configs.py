"""The ImageNet classification and localization configs: the reference recipe (the authors'
classify.py) in mmpretrain's idiom, and classifiers whose parameter counts equal the reference's."""
import os.path as osp

import pytest
from helpers import without_scope
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS  # noqa: E402

import drn_mm  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# reference parameter counts, 1000-way fc included (the authors' drn.py)
PUBLISHED = {
    'a_50': ('A-50', 25_557_032),
    'c_26': ('C-26', 21_126_584),
    'c_42': ('C-42', 31_234_744),
    'c_58': ('C-58', 41_591_608),
    'd_22': ('D-22', 16_393_752),
    'd_38': ('D-38', 26_501_912),
    'd_54': ('D-54', 35_809_176),
    'd_105': ('D-105', 54_801_304)
}


def load(rel):
    return Config.fromfile(osp.join(REPO, rel))


@pytest.mark.parametrize('name', sorted(PUBLISHED))
def test_imagenet_config_recipe_and_parameters(name):
    arch, params = PUBLISHED[name]
    cfg = load(f"configs/drn/drn-{name.replace('_', '-')}_8xb32_in1k.py")
    assert cfg.default_scope == 'mmpretrain' and 'runner_type' not in cfg
    assert cfg.default_hooks.checkpoint.type == 'DRNCheckpointHook'
    assert cfg.custom_imports.imports == ['drn_mm']
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)
    assert cfg.param_scheduler.milestones == [30, 60, 90] and cfg.param_scheduler.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 120
    assert cfg.train_dataloader.batch_size * 8 == 256 == cfg.auto_scale_lr.base_batch_size
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert train == ['LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip', 'PackInputs']
    assert cfg.train_dataloader.dataset.pipeline[1].scale == 224
    test = cfg.test_dataloader.dataset.pipeline
    assert (test[1].type, test[1].scale, test[1].edge) == ('ResizeEdge', 256, 'short')
    assert (test[2].type, test[2].crop_size) == ('CenterCrop', 224)
    assert cfg.test_evaluator == dict(type='Accuracy', topk=(1, 5))
    assert cfg.model.backbone.arch == arch and cfg.model.head.type == 'CAMHead'
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == params


@pytest.mark.parametrize('depth', [18, 34, 50])
def test_resnet_baselines_are_mmpretrain_configs(depth):
    import mmpretrain
    cfg = load(f'configs/baselines/resnet{depth}_8xb32_in1k.py')
    upstream = Config.fromfile(
        osp.join(
            osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'resnet',
            f'resnet{depth}_8xb32_in1k.py'))
    assert cfg.model.backbone.depth == depth
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader',
                'test_dataloader', 'test_evaluator'):
        assert without_scope(cfg[key].to_dict() if hasattr(cfg[key], 'to_dict') else cfg[key]) \
            == without_scope(upstream[key].to_dict() if hasattr(upstream[key], 'to_dict')
                             else upstream[key]), key


@pytest.mark.parametrize('rel', [
    'configs/drn/drn-c-26_cam_8xb32_in1k-loc.py', 'configs/drn/drn-a-50_cam_8xb32_in1k-loc.py',
    'configs/drn/drn-c-26_cam_8xb8_cub-loc.py', 'configs/drn/drn-a-50_cam_8xb8_cub-loc.py'
])
def test_localization_configs(rel):
    cfg = load(rel)
    assert cfg.model.head.with_cam is True
    assert cfg.test_evaluator.type == 'LocalizationMetric'
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == ('CUBLocalization' if 'cub' in rel else 'ImageNetLocalization')
    pack = dataset.pipeline[-1]
    assert pack.type == 'PackInputs'
    assert {'ori_bboxes', 'ori_bbox_labels', 'ori_shape', 'img_shape'} <= set(pack.meta_keys)
    assert cfg.model.head.num_classes == (200 if 'cub' in rel else 1000)
    assert cfg.model.head.in_channels == (2048 if 'a-50' in rel else 512)

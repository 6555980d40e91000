"""Every config in configs/ loads and builds: the model and the train/val pipelines."""
import copy
import functools
import glob
import os.path as osp

import pytest
from helpers import without_scope
from mmengine.config import Config
from mmengine.registry import DefaultScope

import drn_mm  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@functools.lru_cache(maxsize=None)
def _parsed(path):
    return Config.fromfile(path)


def read(path):
    """``Config.fromfile(path)``, parsed once per path in this module (mmengine resolves each
    ``mmseg::`` base by parsing some 50 of mmseg's metafile YAMLs: 1-2 s a config on a 2-core
    machine), a deep copy per call (tests change what they read)."""
    return copy.deepcopy(_parsed(path))


def registries(scope):
    import importlib
    module = importlib.import_module(f'{scope}.registry')
    return module.MODELS, module.TRANSFORMS


def leaf_datasets(dataset):
    """The datasets holding pipelines inside wrappers (RepeatDataset, ConcatDataset, ...)."""
    if 'pipeline' in dataset:
        return [dataset]
    if 'dataset' in dataset:
        return leaf_datasets(dataset.dataset)
    found = [leaf for child in dataset.get('datasets', []) for leaf in leaf_datasets(child)]
    assert found, f'no pipeline in dataset config {dataset}'
    return found


def test_configs_found():
    assert len(CONFIGS) >= 30


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_config_builds(path):
    cfg = read(path)
    scope = cfg.get('default_scope')
    assert scope in ('mmseg', 'mmpretrain'), f'{path}: default_scope={scope!r}'
    assert 'drn_mm' in cfg.get('custom_imports', {}).get('imports', []) or 'baselines' in path
    models, transforms = registries(scope)
    model_cfg = cfg.model
    model_cfg.pop('pretrained', None)  # nothing is downloaded in tests
    with DefaultScope.overwrite_default_scope(scope):
        model = models.build(model_cfg)
        for split in ('train', 'val', 'test'):
            loader = cfg.get(f'{split}_dataloader')
            if loader is None:
                continue
            for dataset in leaf_datasets(loader.dataset):
                for step in dataset.pipeline:
                    transforms.build(step)
        if 'tta_pipeline' in cfg:
            for step in cfg.tta_pipeline:
                transforms.build(step)
    assert sum(p.numel() for p in model.parameters()) > 0
    if 'drn' in osp.basename(path) and hasattr(model, 'backbone'):
        assert type(model.backbone).__name__ == 'DRN'


FCN_80K = sorted(glob.glob(osp.join(REPO, 'configs', 'drn', 'fcn_drn-*-d8_4xb2-80k_*.py')))


@pytest.mark.parametrize('config', FCN_80K, ids=osp.basename)
def test_80k_siblings_are_40k_plus_mmsegs_80k_schedule(config):
    """An 80k FCN config is its 40k sibling with mmseg's schedule_80k: every entry of that
    schedule file, and everything else of the 40k sibling."""
    import mmseg
    schedule = Config.fromfile(
        osp.join(
            osp.dirname(mmseg.__file__), '.mim', 'configs', '_base_', 'schedules',
            'schedule_80k.py'))
    cfg = read(config)
    sibling = read(config.replace('-80k_', '-40k_'))
    # drn_mm's hooks in mmseg's slots (DRNCheckpointHook, the visualization of every test image)
    schedule.merge_from_dict({
        'default_hooks.checkpoint.type': 'DRNCheckpointHook',
        'default_hooks.visualization': sibling.default_hooks.visualization
    })
    for key in schedule.keys():
        assert without_scope(cfg[key]) == without_scope(schedule[key]), key
    for key in sibling.keys():
        if key not in schedule.keys():
            assert without_scope(cfg[key]) == without_scope(sibling[key]), key
    assert len(FCN_80K) == 6


CITYSCAPES_DRN = [
    c for c in CONFIGS
    if osp.basename(c).startswith(('drn_', 'fcn_drn-')) and 'cityscapes' in osp.basename(c)
]


@pytest.mark.parametrize('config', CITYSCAPES_DRN, ids=osp.basename)
def test_every_split_of_drn_cityscapes_configs_checks_its_labels(config):
    """Every pipeline reads labels through LoadCheckedAnnotations with the 19 classes (or mmseg's
    LoadAnnotations followed by CheckSegLabels); val/test/TTA keep LoadImageFromFile by name, as
    MMSegInferencer requires."""
    cfg = read(config)

    def steps_of(steps):
        found = []
        for step in steps:
            found.append(step)
            for stage in step.get('transforms', []):
                found += steps_of(stage)
        return found

    for split, steps in (('train', cfg.train_dataloader.dataset.pipeline),
                         ('val', cfg.val_dataloader.dataset.pipeline),
                         ('test', cfg.test_dataloader.dataset.pipeline), ('tta', cfg.tta_pipeline)):
        steps = steps_of(steps)
        checks = [s for s in steps if s['type'] in ('LoadCheckedAnnotations', 'CheckSegLabels')]
        assert [s['num_classes'] for s in checks] == [19], (config, split)
        if split != 'train':
            assert steps[0]['type'] == 'LoadImageFromFile', (config, split)
    assert len(CITYSCAPES_DRN) >= 20

"""CamVid (SegNet layout): the data set class, void handling, and train -> test through the tools
on generated CamVid-layout data (python -m drn_mm.demo.camvid)."""
import glob
import json
import os.path as osp
import re

import numpy as np
import pytest
from PIL import Image
from tool_runs import REPO, run_tool

from drn_mm.datasets import DataError
from drn_mm.demo.camvid import generate_demo_camvid

CONFIG = osp.join(REPO, 'configs', 'drn', 'drnseg_drn-d-22_2xb4-250e_camvid-360x480.py')


@pytest.fixture(scope='module')
def camvid(tmp_path_factory):
    root = tmp_path_factory.mktemp('camvid') / 'camvid'
    summary = generate_demo_camvid(str(root), num=(6, 3, 3), size=(64, 96), seed=0)
    return str(root), summary


def build_dataset(root, split='val'):
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(type='CamVidDataset', data_root=root,
                 data_prefix=dict(img_path=split, seg_map_path=split + 'annot'),
                 pipeline=[dict(type='LoadCheckedAnnotations', num_classes=11)]))


def test_layout_classes_and_void_becomes_ignore(camvid):
    root, summary = camvid
    assert summary['num_images'] == {'train': 6, 'val': 3, 'test': 3}
    dataset = build_dataset(root)
    assert len(dataset) == 3
    assert dataset.metainfo['classes'][0] == 'Sky' and len(dataset.metainfo['classes']) == 11
    assert len(dataset.metainfo['palette']) == 11
    raw = np.array(Image.open(dataset[0]['seg_map_path']))
    assert (raw == 11).any(), 'the generated data should hold void pixels'
    loaded = dataset[0]['gt_seg_map']
    np.testing.assert_array_equal(loaded[raw == 11], 255)
    np.testing.assert_array_equal(loaded[raw < 11], raw[raw < 11])


def test_a_value_above_void_is_an_error_naming_the_file(camvid, tmp_path):
    import shutil
    root = tmp_path / 'camvid'
    shutil.copytree(camvid[0], root)
    path = sorted(glob.glob(str(root / 'valannot' / '*.png')))[0]
    label = np.array(Image.open(path))
    label[0, 0] = 12
    Image.fromarray(label).save(path)
    with pytest.raises(DataError, match=osp.basename(path)):
        build_dataset(str(root))[0]


def camvid_options(root, max_iters=4):
    return [
        'model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16',
        'model.backbone.norm_cfg.type=BN', 'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.2.scale=(96,64)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,96)', *[
            f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
            for k in ('num_workers=0', 'persistent_workers=False', f'dataset.data_root={root}')
        ], f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}',
        f'param_scheduler.0.end={max_iters}', f'default_hooks.checkpoint.interval={max_iters}',
        'default_hooks.logger.interval=1'
    ]


@pytest.mark.slow
def test_train_then_test_through_the_tools(camvid, tmp_path):
    root = camvid[0]
    work = tmp_path / 'work'
    run_tool('train.py', CONFIG, '--work-dir', work, '--cfg-options', *camvid_options(root))
    checkpoint = work / 'iter_4.pth'
    assert checkpoint.is_file()
    pictures = tmp_path / 'pictures'
    result = run_tool('test.py', CONFIG, checkpoint, '--work-dir', tmp_path / 'test', '--show-dir',
                      pictures, '--cfg-options', *camvid_options(root))
    metrics = json.loads([line for line in result.stdout.splitlines() if line.startswith('{')][-1])
    assert 0.0 <= metrics['mIoU'] <= 100.0 and 0.0 <= metrics['aAcc'] <= 100.0
    log = open(glob.glob(str(tmp_path / 'test' / '*' / '*.log'))[0]).read()
    for name in ('Sky', 'Pole', 'SignSymbol', 'Bicyclist'):  # the per-class table: 11 classes
        assert re.search(rf'\|\s+{name}\s+\|', log), name
    # --show-dir: one picture per test image
    drawn = glob.glob(str(pictures / '**' / '*.png'), recursive=True)
    assert len(drawn) == 3, drawn


@pytest.fixture(scope='module')
def cityscapes_19_class_file(tmp_path_factory):
    """A 19-class Cityscapes DRN-D-22 (the camvid options' widths) in the authors' layout
    (``module.base.K`` / ``seg`` / ``up``), as their segment.py saves it."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from drn_mm.benchmark.reference_model import authors_state_dict
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'drn', 'drn_d_22_cityscapes.py'))
    cfg.model.backbone.update(channels=(4, 8, 8, 8, 16, 16, 16, 16), norm_cfg=dict(type='BN'))
    cfg.model.decode_head.in_channels = 16
    torch.manual_seed(3)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    for name, buffer in model.named_buffers():  # BN statistics the fine-tune must keep
        if name.endswith(('running_mean', 'running_var')):
            buffer.copy_(torch.rand_like(buffer) + 0.5)
    path = tmp_path_factory.mktemp('cityscapes19') / 'drn_d_22_tiny_cityscapes.pth'
    state = authors_state_dict(model.state_dict(), 'D')
    assert state['seg.weight'].shape[0] == 19
    torch.save({'module.' + k: v for k, v in state.items()}, path)
    return str(path), model.state_dict()


@pytest.mark.slow
def test_fine_tune_a_19_class_checkpoint_into_camvid_with_load_from(camvid,
                                                                    cityscapes_19_class_file,
                                                                    tmp_path):
    """The ordinary OpenMMLab fine-tuning flow: ``load_from`` a 19-class checkpoint into an
    11-class config. The backbone loads completely (frozen here, so the trained checkpoint must
    still hold exactly the file's backbone, BN statistics included), the head's mismatched
    weights are skipped and listed in the log; testing the same pair is refused (strict)."""
    import torch
    root = camvid[0]
    path, weights = cityscapes_19_class_file
    work = tmp_path / 'work'
    run_tool('train.py', CONFIG, '--work-dir', work, '--cfg-options', *camvid_options(root, 2),
             f'load_from={path}', 'model.backbone.frozen_stages=8')
    trained = torch.load(work / 'iter_2.pth', weights_only=True)['state_dict']
    backbone = {k: v for k, v in weights.items() if k.startswith('backbone.')}
    assert len(backbone) > 50
    for key, value in backbone.items():
        assert torch.equal(trained[key], value), key
    assert trained['decode_head.conv_seg.weight'].shape[0] == 11
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert 'size mismatch for decode_head.conv_seg.weight' in log
    assert re.search(
        r'the backbone loaded completely; 3 weights of the model keep their '
        r'initialization: decode_head\.conv_seg\.weight, decode_head\.conv_seg\.bias,'
        r' decode_head\.up\.weight', log), log[-3000:]
    # a metric is never computed with a head the file does not fill
    result = run_tool('test.py', CONFIG, path, '--work-dir', tmp_path / 'test', '--cfg-options',
                      *camvid_options(root), check=False)
    assert result.returncode != 0
    assert re.search(
        r'drn_d_22_tiny_cityscapes\.pth does not fit EncoderDecoder.*'
        r'decode_head\.conv_seg\.weight: checkpoint \[19, 16, 1, 1\] vs model '
        r'\[11, 16, 1, 1\]', result.stderr), result.stderr[-3000:]

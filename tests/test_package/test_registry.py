"""drn_mm registers into mmseg's and mmpretrain's MODELS, or into whichever of the two exists."""
import subprocess
import sys
import textwrap

import pytest
import torch

import drn_mm
from drn_mm.models import ARCH_SETTINGS


def test_registered_in_both_libraries():
    from mmpretrain.registry import MODELS as PRETRAIN
    from mmseg.registry import MODELS as SEG
    for name in ('DRN', 'DegriddingNeck'):
        assert SEG.get(name) is PRETRAIN.get(name) is getattr(drn_mm, name)
    assert SEG.get('DRNSegHead') is drn_mm.DRNSegHead
    assert PRETRAIN.get('CAMHead') is drn_mm.CAMHead
    assert sorted(drn_mm.available_libraries()) == ['mmpretrain', 'mmseg']


@pytest.mark.parametrize('missing, present', [('mmpretrain', 'mmseg'), ('mmseg', 'mmpretrain')])
def test_imports_with_only_one_library(missing, present):
    code = textwrap.dedent(f"""
        import sys
        sys.modules['{missing}'] = None  # as if it were not installed
        import drn_mm
        from {present}.registry import MODELS
        assert MODELS.get('DRN') is drn_mm.DRN, 'DRN not registered'
        assert drn_mm.available_libraries() == ['{present}'], drn_mm.available_libraries()
        assert '{missing}' in drn_mm.registry.UNAVAILABLE
        print('ok')
    """)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == 'ok', result.stderr


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_every_preset_builds_from_mmseg_config(arch):
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    backbone = MODELS.build(dict(type='DRN', arch=arch))
    channels = backbone.out_channels[-1]
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(
            dict(type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor',
                                                               size_divisor=8),
                 backbone=dict(type='DRN', arch=arch),
                 decode_head=dict(type='DRNSegHead', in_channels=channels, num_classes=19)))
    assert model.backbone.arch == arch
    assert model.decode_head.conv_seg.in_channels == channels


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_every_preset_builds_from_mmpretrain_config(arch):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    channels = 2048 if arch in ('A-50', 'A-101') else 512
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(
            dict(type='ImageClassifier', backbone=dict(type='DRN', arch=arch),
                 head=dict(type='CAMHead', num_classes=1000, in_channels=channels)))
    assert model.backbone.out_channels == (channels, )


def test_small_models_run_in_both_frameworks():
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as PRETRAIN
    from mmseg.registry import MODELS as SEG
    small = dict(type='DRN', arch='C-26', channels=(4, 8, 8, 8, 16, 16, 16, 16))
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = SEG.build(
            dict(type='EncoderDecoder', backbone=small,
                 decode_head=dict(type='DRNSegHead', in_channels=16, num_classes=3)))
    assert seg(torch.rand(2, 3, 32, 48), mode='tensor').shape == (2, 3, 32, 48)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        cls = PRETRAIN.build(
            dict(type='ImageClassifier', backbone=small, head=dict(type='CAMHead', num_classes=5,
                                                                   in_channels=16)))
    assert cls(torch.rand(2, 3, 32, 48), mode='tensor').shape == (2, 5)

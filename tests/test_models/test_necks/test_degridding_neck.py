import pytest
import torch
from helpers import assert_close_scaled, build_fixture_backbone

from drn_mm.models import DRN, DegriddingNeck


@pytest.mark.parametrize('name, style, residual',
                         [('C-26', 'block', False), ('C-58', 'block', False),
                          ('D-24', 'conv', False)])
def test_backbone_without_levels_7_8_plus_neck_equals_full_drn(tiny_reference, name, style,
                                                               residual):
    entry = tiny_reference['models'][name]
    full, _ = build_fixture_backbone(entry)
    layers = list(entry['layers'])
    trunk = DRN(arch=full.arch, channels=entry['channels'], layers=layers[:6] + [0, 0]).eval()
    trunk.load_state_dict({
        k: v
        for k, v in full.state_dict().items() if not k.startswith(('layer7.', 'layer8.'))
    })
    neck = DegriddingNeck(in_channels=trunk.out_channels[-1], channels=entry['channels'][6:],
                          num_layers=layers[6:], style=style, residual=residual).eval()
    neck.load_state_dict({
        k.replace('layer7.', 'layers.0.').replace('layer8.', 'layers.1.'): v
        for k, v in full.state_dict().items() if k.startswith(('layer7.', 'layer8.'))
    })
    x = tiny_reference['input'].double()  # float64: see assert_close_scaled
    full, trunk, neck = full.double(), trunk.double(), neck.double()
    with torch.no_grad():
        expected = full(x)[-1]
        got = neck(trunk(x))[-1]
    assert trunk.num_levels == 6
    assert torch.equal(got, expected)
    assert_close_scaled(got, entry['levels'][-1], what=f'{name} trunk + neck vs reference')


def test_neck_after_mmseg_resnetv1c_dilated():
    from mmseg.registry import MODELS
    backbone = MODELS.build(
        dict(type='ResNetV1c', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
             out_indices=(0, 1, 2, 3)))
    neck = MODELS.build(dict(type='DegriddingNeck', in_channels=512, channels=(128, 128)))
    feats = neck(backbone(torch.rand(1, 3, 40, 56)))
    assert len(feats) == 4
    assert feats[-1].shape == (1, 128, 5, 7)
    assert feats[2].shape == (1, 256, 5, 7)  # other features pass through for auxiliary heads


def test_neck_after_mmpretrain_resnet_dilated():
    from mmpretrain.registry import MODELS
    backbone = MODELS.build(
        dict(type='ResNet', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)))
    neck = MODELS.build(
        dict(type='DegriddingNeck', in_channels=512, style='conv', num_layers=(2, 2),
             channels=(64, 64)))
    feats = neck(backbone(torch.rand(1, 3, 33, 33)))
    assert feats[-1].shape == (1, 64, 5, 5)


def test_neck_residual_is_drn_b():
    neck = DegriddingNeck(in_channels=32, channels=(32, 32), residual=True)
    assert all(block.residual for level in neck.layers for block in level)


@pytest.mark.parametrize('kwargs, message', [
    (dict(style='dense'), "style='dense' is not a degridding style"),
    (dict(channels=(512, ), num_layers=(1, 1)), 'one entry per degridding level'),
    (dict(style='conv', residual=True), "residual=True needs style='block'"),
])
def test_neck_bad_options(kwargs, message):
    with pytest.raises(ValueError) as info:
        DegriddingNeck(in_channels=64, **kwargs)
    assert message in str(info.value)


def test_neck_checks_input_channels():
    neck = DegriddingNeck(in_channels=64, channels=(8, 8))
    with pytest.raises(ValueError, match='in_channels=64 but the feature at in_index=-1 has 32'):
        neck((torch.rand(1, 32, 4, 4), ))

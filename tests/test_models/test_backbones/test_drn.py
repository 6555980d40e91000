import math

import pytest
import torch
from helpers import assert_close_scaled, build_fixture_backbone, count_params
from torch.nn.modules.batchnorm import _BatchNorm

from drn_mm.models import ARCH_SETTINGS, DRN

# Reference-style parameter counts with a 1000-way classifier (the authors' drn.py and
# tests/data/official_drn_keys.json); DRN-A counts are torchvision's ResNets.
TORCHVISION_RESNET = {
    'A-18': 'resnet18',
    'A-34': 'resnet34',
    'A-50': 'resnet50',
    'A-101': 'resnet101'
}
OFFICIAL_NAME = {
    'A-50': 'drn_a_50',
    'C-26': 'drn_c_26',
    'C-42': 'drn_c_42',
    'C-58': 'drn_c_58',
    'D-22': 'drn_d_22',
    'D-24': 'drn_d_24',
    'D-38': 'drn_d_38',
    'D-40': 'drn_d_40',
    'D-54': 'drn_d_54',
    'D-56': 'drn_d_56',
    'D-105': 'drn_d_105',
    'D-107': 'drn_d_107'
}
PUBLISHED_PARAMS = {
    'A-50': 25_557_032,
    'C-26': 21_126_584,
    'C-42': 31_234_744,
    'C-58': 41_591_608,
    'D-22': 16_393_752,
    'D-24': 21_114_392,
    'D-38': 26_501_912,
    'D-40': 31_222_552,
    'D-54': 35_809_176,
    'D-56': 40_529_816,
    'D-105': 54_801_304,
    'D-107': 59_521_944
}


def fc_params(model):
    return model.out_channels[-1] * 1000 + 1000


@pytest.mark.parametrize('name', ['C-26', 'C-58', 'D-22', 'D-24', 'D-54'])
def test_fixture_parity_every_level(tiny_reference, name):
    entry = tiny_reference['models'][name]
    model, _ = build_fixture_backbone(entry)
    with torch.no_grad():  # float64: see assert_close_scaled
        levels = model.double()(tiny_reference['input'].double())
    assert len(levels) == 8 == len(entry['levels'])
    for i, (ours, ref) in enumerate(zip(levels, entry['levels'])):
        assert_close_scaled(ours, ref, what=f'{name} level {i + 1}')


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_parameter_count_matches_reference(arch, official_keys):
    model = DRN(arch=arch)
    total = count_params(model) + fc_params(model)
    if arch in PUBLISHED_PARAMS:
        assert total == PUBLISHED_PARAMS[arch] == official_keys[OFFICIAL_NAME[arch]]['params']
    elif arch.startswith('A-'):
        import torchvision
        assert total == count_params(getattr(torchvision.models, TORCHVISION_RESNET[arch])())
    else:  # DRN-B = DRN-C with residual levels 7-8: same parameters
        assert total == count_params(DRN(arch='C' + arch[1:])) + fc_params(model)


@pytest.mark.parametrize('arch', sorted(OFFICIAL_NAME))
def test_state_dict_layout_matches_official_checkpoint(arch, official_keys):
    """Every official key lands on a drn_mm key of the same shape, and nothing is left over."""
    from drn_mm.models.backbones.drn_checkpoint import convert_drn_state_dict
    official = {
        k: torch.empty(s)
        for k, s in official_keys[OFFICIAL_NAME[arch]]['state_dict'].items()
    }
    converted = convert_drn_state_dict(official)
    ours = {f'backbone.{k}': v.shape for k, v in DRN(arch=arch).state_dict().items()}
    fc = {k: v.shape for k, v in converted.items() if k.startswith('head.fc.')}
    assert set(fc) == {'head.fc.weight', 'head.fc.bias'}
    assert {k: v.shape for k, v in converted.items() if k.startswith('backbone.')} == ours


@pytest.mark.parametrize('arch', ['A-18', 'B-26', 'C-26', 'D-22', 'C-58'])
@pytest.mark.parametrize('size', [(37, 50), (64, 64), (33, 97)])
def test_any_input_size_gives_ceil_strided_outputs(arch, size):
    small = dict(channels=(8, 8, 16, 16, 16) if arch.startswith('A') else (4, 8, 8, 8, 8, 8, 8, 8))
    model = DRN(arch=arch, out_indices=tuple(range(4 if arch.startswith('A') else 8)), **small)
    outs = model(torch.rand(2, 3, *size))
    assert len(outs) == model.num_levels
    for out, stride, channels in zip(outs, model.out_strides, model.out_channels):
        assert out.shape == (2, channels, math.ceil(size[0] / stride), math.ceil(size[1] / stride))
    assert model.out_strides[-1] == 8


def test_level_widths_and_strides_of_presets():
    assert DRN(arch='C-26',
               out_indices=range(8)).out_channels == (16, 32, 64, 128, 256, 512, 512, 512)
    assert DRN(arch='D-54',
               out_indices=range(8)).out_channels == (16, 32, 256, 512, 1024, 2048, 512, 512)
    assert DRN(arch='D-54', out_indices=range(8)).out_strides == (1, 2, 4, 8, 8, 8, 8, 8)
    a50 = DRN(arch='A-50', out_indices=(0, 1, 2, 3))
    assert a50.out_channels == (256, 512, 1024, 2048) and a50.out_strides == (4, 8, 8, 8)


def test_dilations_follow_the_paper():
    c26 = DRN(arch='C-26')
    assert c26.layer5[0].conv1.dilation == (2, 2) and c26.layer6[0].conv2.dilation == (4, 4)
    assert c26.layer7[0].conv1.dilation == (2, 2) and c26.layer8[0].conv1.dilation == (1, 1)
    assert not c26.layer7[0].residual and DRN(arch='B-26').layer7[0].residual
    a50 = DRN(arch='A-50')  # first block of stages 3-4 at dilation 1, the rest at 2 and 4
    assert a50.layer3[0].conv2.dilation == (1, 1) and a50.layer3[1].conv2.dilation == (2, 2)
    assert a50.layer4[0].conv2.dilation == (1, 1) and a50.layer4[2].conv2.dilation == (4, 4)
    assert a50.layer3[0].conv2.stride == (1, 1)


def test_discarded_level7_projection_is_kept_but_not_computed():
    model = DRN(arch='C-58', channels=(4, 8, 8, 8, 8, 8, 8, 8)).eval()
    projection = model.layer7[0].downsample
    assert projection is not None  # in the official checkpoint: 2048 -> 512 at full size
    calls = []
    projection.register_forward_hook(lambda *args: calls.append(1))
    model(torch.rand(1, 3, 32, 32))
    assert calls == []


def test_out_indices_negative_and_default():
    assert DRN(arch='D-22').out_indices == (7, )
    assert DRN(arch='D-22', out_indices=(-1, -3)).out_indices == (5, 7)  # level order
    assert DRN(arch='A-18').out_indices == (3, )


def test_frozen_stages_and_norm_eval():
    model = DRN(arch='C-26', channels=(4, 8, 8, 8, 8, 8, 8, 8), frozen_stages=2, norm_eval=True)
    model.train()
    for module in (model.stem, model.layer1, model.layer2):
        assert not any(p.requires_grad for p in module.parameters())
        assert not module.training
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    stats = model.layer1[0].bn1.running_mean.clone()
    model(torch.rand(2, 3, 16, 16))
    assert torch.equal(stats, model.layer1[0].bn1.running_mean)


@pytest.mark.parametrize(
    'norm_cfg',
    [dict(type='BN'), dict(type='GN', num_groups=4),
     dict(type='SyncBN')])
def test_norm_cfg(norm_cfg):
    model = DRN(arch='D-22', channels=(8, 8, 8, 8, 8, 8, 8, 8), norm_cfg=norm_cfg)
    kinds = {type(m).__name__ for m in model.modules() if 'Norm' in type(m).__name__}
    assert kinds == {
        dict(BN='BatchNorm2d', GN='GroupNorm', SyncBN='SyncBatchNorm')[norm_cfg['type']]
    }
    if norm_cfg['type'] != 'SyncBN':  # SyncBN runs only in a distributed job
        assert model(torch.rand(2, 3, 16, 16))[0].shape == (2, 8, 2, 2)


def test_with_cp_gives_same_output_and_gradients():
    torch.manual_seed(0)
    plain = DRN(arch='C-26', channels=(4, 8, 8, 8, 8, 8, 8, 8))
    plain.init_weights()
    ckpt = DRN(arch='C-26', channels=(4, 8, 8, 8, 8, 8, 8, 8), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 24, 24)
    grads = []
    for model in (plain, ckpt):
        model.zero_grad()
        out = model(x.clone().requires_grad_())[0]
        out.square().sum().backward()
        grads.append(model.stem[0].weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_in_channels():
    model = DRN(arch='D-22', in_channels=1, channels=(4, 8, 8, 8, 8, 8, 8, 8))
    assert model(torch.rand(1, 1, 16, 16))[0].shape == (1, 8, 2, 2)


def test_init_matches_reference_scheme():
    torch.manual_seed(0)
    model = DRN(arch='D-22')
    model.init_weights()
    w = model.layer6[0].conv1.weight  # N(0, sqrt(2 / (3 * 3 * 512)))
    assert abs(w.std().item() - math.sqrt(2 / (9 * 512))) < 2e-3
    assert torch.all(model.layer6[0].bn1.weight == 1) and torch.all(model.layer6[0].bn1.bias == 0)


@pytest.mark.parametrize('kwargs, message', [
    (dict(arch='E-26'), "arch='E-26' is not a DRN preset; valid: ('A-18'"),
    (dict(arch='C-26', out_indices=(8, )), 'out_indices=(8,) has 8, out of range'),
    (dict(arch='A-50', out_indices=(4, )), 'valid: 0..3'),
    (dict(arch='C-26', frozen_stages=9), 'frozen_stages=9 is out of range'),
    (dict(arch='C-26', layers=(1, 1, 2)), 'needs 8 entries'),
    (dict(arch='C-26', channels=(16, 32)), 'channels=(16, 32) needs 8 entries'),
    (dict(arch='C-26', layers=(1, 0, 2, 2, 2, 2, 1, 1)), 'only levels 7 and 8'),
])
def test_bad_options_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=None) as info:
        DRN(**kwargs)
    assert message in str(info.value)

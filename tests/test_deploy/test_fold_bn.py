"""BatchNorm folding is exact to float32 rounding on every DRN style and on mmseg segmentors."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from drn_mm.apis.deploy import fold_segmentor_checkpoint
from drn_mm.deploy.fold_bn import (fold_batchnorm, fold_conv_bn, load_folded_checkpoint,
                                   unfolded_batchnorms)
from drn_mm.models import DRN

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOL = 1e-5  # max |folded - unfolded| / max |unfolded|: float32 rounding at the output's scale


def randomize_batchnorms(model, seed=0):
    """Non-trivial BN statistics and affine parameters, so folding has something to fold."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)
    return model.eval()


def rel_err(actual, expected):
    return ((actual - expected).abs().max() / expected.abs().max()).item()


def check_fold(model, run, inputs):
    with torch.no_grad():
        expected = run(model, inputs)
    folded = fold_batchnorm(model)
    assert folded is model and not folded.training
    with torch.no_grad():
        actual = run(folded, inputs)
    if isinstance(expected, (tuple, list)):
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert rel_err(a, e) <= TOL, f'output {i}: {rel_err(a, e):.3g}'
    else:
        assert rel_err(actual, expected) <= TOL, rel_err(actual, expected)
    return folded


SMALL = {'A': dict(channels=(8, 8, 16, 16, 16)), 'B': dict(channels=(4, 8, 8, 8, 16, 16, 16, 16))}


@pytest.mark.parametrize('arch', ['A-18', 'A-50', 'B-26', 'C-26', 'C-58', 'D-22', 'D-54', 'D-24'])
def test_fold_is_exact_on_every_drn_style(arch):
    small = SMALL['A' if arch.startswith('A') else 'B']
    model = DRN(arch=arch, out_indices=tuple(range(4 if arch.startswith('A') else 8)), **small)
    randomize_batchnorms(model)
    n_bn = len(unfolded_batchnorms(model))
    inputs = torch.randn(2, 3, 48, 40, generator=torch.Generator().manual_seed(1))
    folded = check_fold(model, lambda m, x: m(x), inputs)
    # every BN of a DRN follows a conv: none is left, and each left a bias on its conv
    assert unfolded_batchnorms(folded) == []
    convs_with_bias = [
        m for m in folded.modules() if isinstance(m, nn.Conv2d) and m.bias is not None
    ]
    assert len(convs_with_bias) == n_bn


def test_fold_keeps_discarded_projection_out_of_the_compute():
    """DRN-C-58's level-7 projection is folded like any conv-BN pair and still never runs."""
    model = randomize_batchnorms(DRN(arch='C-58', channels=(4, 8, 8, 8, 8, 8, 8, 8)))
    fold_batchnorm(model)
    calls = []
    model.layer7[0].downsample.register_forward_hook(lambda *args: calls.append(1))
    model(torch.rand(1, 3, 32, 32))
    assert calls == [] and isinstance(model.layer7[0].downsample[1], nn.Identity)


def build_segmentor(config, options):
    from drn_mm.apis import build_model as build
    from drn_mm.apis import read_config as load_benchmark_config
    return build(load_benchmark_config(osp.join(REPO, config), options))


TINY_DRN = {'model.backbone.channels': (4, 8, 8, 8, 16, 16, 16, 16)}
SEGMENTORS = {
    'drn_seg':
    ('configs/drn/drn_d_22_cityscapes.py', dict(TINY_DRN, **{'model.decode_head.in_channels': 16})),
    'fcn_drn': ('configs/drn/fcn_drn-d-38-d8_4xb2-40k_cityscapes-512x1024.py',
                dict(
                    TINY_DRN, **{
                        'model.decode_head.in_channels': 16,
                        'model.decode_head.channels': 8,
                        'model.auxiliary_head.in_channels': 16,
                        'model.auxiliary_head.channels': 8
                    })),
    'fcn_r18v1c': ('configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py', {
        'model.backbone.depth': 18,
        'model.backbone.stem_channels': 8,
        'model.backbone.base_channels': 4,
        'model.decode_head.in_channels': 32,
        'model.decode_head.channels': 8,
        'model.auxiliary_head.in_channels': 16,
        'model.auxiliary_head.channels': 8
    }),
    'fcn_r50v1c': ('configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py', {
        'model.backbone.stem_channels': 8,
        'model.backbone.base_channels': 2,
        'model.decode_head.in_channels': 64,
        'model.decode_head.channels': 8,
        'model.auxiliary_head.in_channels': 32,
        'model.auxiliary_head.channels': 8
    }),
}


@pytest.mark.parametrize('name', sorted(SEGMENTORS))
def test_fold_is_exact_on_segmentors_in_eval_mode(name):
    """DRN + DRNSegHead, DRN + mmseg FCN heads (ConvModule), mmseg's ResNetV1c (its blocks,
    deep stem and downsamples) with FCN heads: tensor-path logits equal, no BN left."""
    model = randomize_batchnorms(build_segmentor(*SEGMENTORS[name]))
    inputs = torch.randn(2, 3, 32, 64, generator=torch.Generator().manual_seed(2))
    folded = check_fold(model, lambda m, x: m(x, mode='tensor'), inputs)
    assert unfolded_batchnorms(folded) == []
    # the auxiliary head (training only) is folded too
    if getattr(folded, 'auxiliary_head', None) is not None:
        assert not folded.auxiliary_head.convs[0].with_norm


def test_fold_conv_bn_refuses_what_it_cannot_fold():
    with pytest.raises(ValueError, match='cannot fold'):
        fold_conv_bn(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(5))
    with pytest.raises(ValueError, match='cannot fold'):
        fold_conv_bn(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False))


def test_fold_leaves_bn_that_does_not_follow_a_conv():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4))
    randomize_batchnorms(model)
    fold_batchnorm(model)
    assert unfolded_batchnorms(model) == ['2']


def test_fold_conv_with_bias_and_bn_without_affine():
    conv, bn = nn.Conv2d(3, 4, 3, bias=True), nn.BatchNorm2d(4, affine=False)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    x = torch.randn(1, 3, 8, 8)
    expected = bn.eval()(conv(x))
    fold_conv_bn(conv, bn)
    assert rel_err(conv(x), expected) <= TOL


def test_folded_checkpoint_round_trip(tmp_path):
    """tools/fold_bn.py's function: fold a checkpoint, load it into a fresh model, same logits."""
    config, options = SEGMENTORS['fcn_drn']
    model = randomize_batchnorms(build_segmentor(config, options))
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    out = str(tmp_path / 'folded.pth')
    report = fold_segmentor_checkpoint(
        osp.join(REPO, config), checkpoint, out, cfg_options=options, verify_size=(32, 64))
    assert report['unfolded'] == [] and report['folded'] > 20
    assert report['max_rel_err'] <= TOL
    fresh = load_folded_checkpoint(build_segmentor(config, options), out)
    inputs = torch.randn(1, 3, 32, 64)
    with torch.no_grad():
        assert rel_err(fresh(inputs, mode='tensor'), model(inputs, mode='tensor')) <= TOL

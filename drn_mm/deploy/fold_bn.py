"""Inference-time BatchNorm folding: each ``conv -> BN`` pair becomes one conv with a bias.

In eval mode a BatchNorm is the per-channel affine map ``y = (x - mean) * s + beta`` with
``s = gamma / sqrt(var + eps)``, so it folds into the conv that feeds it:
``W' = W * s`` (per output channel) and ``b' = (b - mean) * s + beta``. The folded values are
computed in float64 and rounded once to the parameter dtype, so the folded model equals the
eval-mode model to float32 rounding.

Pairs are found only where the conv's output is known to go straight into the BN:

- consecutive ``Conv2d`` then ``_BatchNorm`` children of an ``nn.Sequential`` (DRN stems, DRN-D
  conv levels 1, 2, 7, 8, shortcut projections, mmseg ResNetV1c's deep stem and downsamples);
- ``conv{i}`` / ``bn{i}`` of drn_mm's :class:`~drn_mm.BasicBlock` / :class:`~drn_mm.Bottleneck`
  and of mmseg's ResNet blocks (and the ResNet's own ``conv1`` / ``norm1`` stem);
- mmcv's ``ConvModule`` whose order puts ``norm`` right after ``conv`` (mmseg's FCN, PSP, ASPP
  heads and necks).

A folded BN is replaced by ``nn.Identity`` in its parent, so the module tree keeps its names.
BNs that fit none of these (e.g. after an addition, or with ``track_running_stats=False``) are
left as they are; :func:`unfolded_batchnorms` names them.
"""
from typing import Iterator, List, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..models.layers import BasicBlock, Bottleneck

__all__ = [
    'fold_batchnorm', 'fold_conv_bn', 'unfolded_batchnorms', 'load_folded_checkpoint',
    'calibrate_batchnorm'
]


def _block_types() -> Tuple[type, ...]:
    types = [BasicBlock, Bottleneck]
    try:
        from mmseg.models.backbones import resnet as mmseg_resnet
        types += [mmseg_resnet.BasicBlock, mmseg_resnet.Bottleneck, mmseg_resnet.ResNet]
    except (ImportError, AssertionError):  # mmseg missing or refusing its mmcv
        pass
    return tuple(types)


def _conv_module_type():
    try:
        from mmcv.cnn import ConvModule
        return ConvModule
    except ImportError:
        return None


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and isinstance(bn, _BatchNorm) and bn.track_running_stats
            and bn.running_mean is not None and bn.num_features == conv.out_channels)


def fold_conv_bn(conv: nn.Conv2d, bn: _BatchNorm) -> nn.Conv2d:
    """Fold ``bn`` (its running statistics) into ``conv`` in place; returns ``conv``."""
    if not _foldable(conv, bn):
        raise ValueError(f'cannot fold {bn} into {conv}: needs a plain nn.Conv2d followed by a '
                         'BatchNorm with running statistics over its output channels')
    with torch.no_grad():
        weight = conv.weight.double()
        scale = bn.running_var.double().add(bn.eps).rsqrt()
        if bn.affine:
            scale = scale * bn.weight.double()
        bias = -bn.running_mean.double() * scale
        if conv.bias is not None:
            bias = bias + conv.bias.double() * scale
        if bn.affine:
            bias = bias + bn.bias.double()
        dtype = conv.weight.dtype
        conv.weight.copy_((weight * scale.view(-1, 1, 1, 1)).to(dtype))
        if conv.bias is None:
            conv.bias = nn.Parameter(
                bias.to(dtype=dtype, device=conv.weight.device),
                requires_grad=conv.weight.requires_grad)
        else:
            conv.bias.copy_(bias.to(dtype))
    return conv


def _pairs(module: nn.Module, block_types, conv_module) -> Iterator[Tuple[str, str]]:
    """(conv child name, BN child name) of ``module`` where the conv feeds the BN directly."""
    children = dict(module.named_children())
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        names = list(children)
        for a, b in zip(names, names[1:]):
            yield a, b
    elif conv_module is not None and isinstance(module, conv_module):
        order = list(module.order)
        if module.with_norm and order.index('norm') == order.index('conv') + 1:
            yield 'conv', module.norm_name
    elif isinstance(module, block_types):
        for i in (1, 2, 3):
            bn_name = getattr(module, f'norm{i}_name', f'bn{i}')  # mmseg names norms by attribute
            if f'conv{i}' in children and bn_name in children:
                yield f'conv{i}', bn_name


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a conv into that conv (in place).

    The result computes what ``model.eval()`` computed, to float32 rounding, with fewer layers.
    It is an inference model: the model is returned in eval mode, and training it would train
    the folded convs without normalization.

    Args:
        model: any module (a DRN backbone, an mmseg segmentor with DRN or ResNet backbones and
            ConvModule heads, ...).

    Returns:
        nn.Module: ``model`` itself, folded, in eval mode.
    """
    block_types = _block_types()
    conv_module = _conv_module_type()
    for module in list(model.modules()):
        for conv_name, bn_name in list(_pairs(module, block_types, conv_module)):
            conv, bn = getattr(module, conv_name), getattr(module, bn_name)
            if not _foldable(conv, bn):
                continue
            fold_conv_bn(conv, bn)
            setattr(module, bn_name, nn.Identity())
            if conv_module is not None and isinstance(module, conv_module):
                module.with_norm = False  # also keeps mmcv's efficient conv-bn path off
    return model.eval()


def unfolded_batchnorms(model: nn.Module) -> List[str]:
    """Names of the BatchNorm modules still in ``model`` (none after folding a DRN segmentor)."""
    return [name for name, m in model.named_modules() if isinstance(m, _BatchNorm)]


def load_folded_checkpoint(model: nn.Module, checkpoint: str, map_location='cpu') -> nn.Module:
    """Fold ``model`` (built from its config) and load a checkpoint written by tools/fold_bn.py.

    The folded layout is a function of the config alone, so folding a freshly built model and then
    loading the folded weights strictly gives the folded model back.
    """
    fold_batchnorm(model)
    raw = torch.load(checkpoint, map_location=map_location, weights_only=True)
    state_dict = raw.get('state_dict', raw)
    model.load_state_dict(state_dict, strict=True)
    return model


def calibrate_batchnorm(model: nn.Module, inputs: torch.Tensor, steps: int = 2) -> nn.Module:
    """Give BN layers running statistics of ``inputs`` (a cumulative average over ``steps``
    train-mode forwards), so a randomly initialized model's eval-mode activations keep a sane
    scale: accuracy checks then compare numbers of a realistic size. Returns ``model`` in eval."""
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(inputs, mode='tensor')
    for bn, momentum in zip(bns, momenta):
        bn.momentum = momentum
    return model.eval()

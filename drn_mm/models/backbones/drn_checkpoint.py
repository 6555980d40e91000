"""DRN's checkpoint layouts: one conversion from every foreign layout to drn_mm's (the key
mapping beside the model, as timm's ``checkpoint_filter_fn``), and strict loading through it.

Layouts understood by :func:`convert_drn_state_dict` (a ``module.`` prefix is stripped first):

- drn_mm / mmengine: ``backbone.*``, ``head.*``, ``decode_head.*``, ... (kept as they are).
- The authors' ImageNet checkpoints (github.com/fyu/drn): DRN-C ``conv1``/``bn1``/``layerN``/``fc``,
  DRN-D ``layer0.{0,1}``/``layerN``/``fc``; torchvision ResNets (DRN-A) share the C names with a
  Linear ``fc``. Result: ``backbone.*`` and ``head.fc.*`` (1x1 conv weights).
- The authors' Cityscapes segmentation checkpoints: ``base.K`` (the backbone's children in order),
  ``seg`` (1x1 classifier) and ``up`` (bilinear transposed conv). Result: ``backbone.*``,
  ``decode_head.conv_seg.*`` and ``decode_head.up.weight``.
"""
import re
from collections import OrderedDict
from contextlib import contextmanager
from typing import List, Mapping, Optional

import torch
import torch.nn as nn

from ..utils.checkpoint import (CheckpointMismatchError, check_state_dict_fits, describe,
                                extract_state_dict, load_checkpoint_file, strip_module_prefix)

__all__ = [
    'detect_layout', 'convert_drn_state_dict', 'load_into_model', 'load_backbone_checkpoint',
    'archs_fitting'
]

#: Parameters the reference DRN keeps per level; drn_mm uses the same names inside levels.
_LEVEL_KEY = re.compile(r'^layer[1-8]\.')


def detect_layout(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Name the key layout of a (``module.``-stripped) state dict.

    Returns one of 'drn_mm', 'reference_seg', 'reference_d', 'reference_c' (DRN-C and torchvision /
    DRN-A) or 'unknown'.
    """
    keys = list(state_dict)
    if any(k.startswith(('backbone.', 'decode_head.', 'head.', 'neck.')) for k in keys):
        return 'drn_mm'
    if any(k.startswith('base.') for k in keys):
        return 'reference_seg'
    if 'layer0.0.weight' in state_dict:
        return 'reference_d'
    if 'conv1.weight' in state_dict:
        return 'reference_c'
    return 'unknown'


def convert_imagenet_key(key: str) -> Optional[str]:
    for old, new in (('conv1.', 'stem.0.'), ('bn1.', 'stem.1.'), ('layer0.0.', 'stem.0.'),
                     ('layer0.1.', 'stem.1.')):
        if key.startswith(old):
            return 'backbone.' + new + key[len(old):]
    if _LEVEL_KEY.match(key):
        return 'backbone.' + key
    if key.startswith('fc.'):
        return 'head.' + key
    return None


def _convert_seg_key(key: str, d_style: bool) -> Optional[str]:
    if key.startswith(('seg.', 'up.')):
        return 'decode_head.' + key.replace('seg.', 'conv_seg.', 1)
    match = re.match(r'^base\.(\d+)\.(.*)$', key)
    if match is None:
        return None
    child, rest = int(match.group(1)), match.group(2)
    if d_style:  # base.0 = layer0 (conv, bn, relu), base.K = layerK
        return f'backbone.stem.{rest}' if child == 0 else f'backbone.layer{child}.{rest}'
    # DRN-C: base.0 conv1, base.1 bn1, base.2 relu, base.(K + 2) = layerK
    return f'backbone.stem.{child}.{rest}' if child < 2 else f'backbone.layer{child - 2}.{rest}'


def convert_drn_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Convert a DRN state dict of any known layout to drn_mm's full-model keys.

    drn_mm's own layout comes back unchanged (less a ``module.`` prefix). A Linear ``fc`` (the
    torchvision / DRN-A classifier) becomes the equivalent 1x1 conv weight.

    Raises:
        CheckpointMismatchError: for a layout it does not know, or keys it cannot place.
    """
    state_dict = strip_module_prefix(state_dict)
    layout = detect_layout(state_dict)
    if layout == 'drn_mm':
        return OrderedDict(state_dict)
    if layout == 'unknown':
        raise CheckpointMismatchError(
            'not a DRN checkpoint: expected drn_mm keys (backbone.*), the authors\' ImageNet keys '
            '(conv1.*/layer0.*, layerN.*, fc.*) or Cityscapes keys (base.*, seg.*, up.*); '
            f'first keys: {list(state_dict)[:5]}')
    d_style = 'base.0.0.weight' in state_dict
    converted, unplaced = OrderedDict(), []
    for key, value in state_dict.items():
        if layout == 'reference_seg':
            new = _convert_seg_key(key, d_style)
        else:
            new = convert_imagenet_key(key)
        if new is None:
            unplaced.append(key)
            continue
        if new == 'head.fc.weight' and value.dim() == 2:
            value = value[:, :, None, None]
        converted[new] = value
    if unplaced:
        raise CheckpointMismatchError(
            f'{len(unplaced)} keys of a {layout} checkpoint have no place in drn_mm: {unplaced[:5]}'
        )
    return converted


def load_into_model(model: nn.Module, checkpoint: Mapping, source: str) -> None:
    """Convert a read checkpoint (any known layout) and load it into ``model``, strictly.

    Raises :class:`CheckpointMismatchError` naming ``source`` before any weight is changed.
    """
    state_dict = convert_drn_state_dict(extract_state_dict(checkpoint))
    backbone = getattr(model, 'backbone', None)
    with _arch_hint(backbone, state_dict, 'backbone.'):
        check_state_dict_fits(model, state_dict, describe(model), source=source)
    model.load_state_dict(state_dict, strict=False)  # fit checked above


def load_backbone_checkpoint(backbone: nn.Module, filename: str,
                             prefix: Optional[str] = None) -> None:
    """Load the backbone part of any known DRN checkpoint into ``backbone``, strictly.

    Args:
        backbone: a :class:`~drn_mm.DRN` (or any module whose keys follow drn_mm's layout).
        filename: checkpoint path or URI.
        prefix: the part of the converted keys to load (default ``'backbone.'``), as
            mmengine's ``Pretrained`` init ``prefix``.
    """
    prefix = prefix or 'backbone.'
    if not prefix.endswith('.'):
        prefix += '.'
    state_dict = convert_drn_state_dict(extract_state_dict(load_checkpoint_file(filename)))
    sub = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    if not sub:
        raise CheckpointMismatchError(
            f'{filename} has no weights under {prefix!r} for {describe(backbone)}; '
            f'first keys after conversion: {list(state_dict)[:5]}')
    with _arch_hint(backbone, sub, ''):
        check_state_dict_fits(backbone, sub, describe(backbone), source=filename)
    backbone.load_state_dict(sub, strict=False)


def archs_fitting(drn_type: type, state_dict: Mapping[str, torch.Tensor],
                  prefix: str = '') -> List[str]:
    """The presets of ``drn_type`` (the DRN class, passed in: this module is imported by it)
    whose backbone keys and shapes the ``prefix`` part of ``state_dict`` holds exactly. Built on
    the meta device: shapes only, no memory."""
    weights = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    found = []
    for arch in getattr(drn_type, 'arch_settings', {}):
        with torch.device('meta'):
            expected = drn_type(arch=arch).state_dict()
        needed = {k: v.shape for k, v in expected.items() if not k.endswith('num_batches_tracked')}
        extra = set(weights) - set(expected)
        if not extra and all(k in weights and weights[k].shape == shape
                             for k, shape in needed.items()):
            found.append(arch)
    return found


@contextmanager
def _arch_hint(backbone: Optional[nn.Module], state_dict: Mapping[str, torch.Tensor], prefix: str):
    """Add to a :class:`CheckpointMismatchError` of a DRN model which preset the checkpoint fits:
    "this is a D-38 file, you used the D-22 config"."""
    try:
        yield
    except CheckpointMismatchError as e:
        archs = archs_fitting(type(backbone), state_dict, prefix) if hasattr(
            backbone, 'arch_settings') else []
        if not archs or getattr(backbone, 'arch', None) in archs:
            raise
        which = ' or '.join(f'DRN-{a}' for a in archs)
        raise CheckpointMismatchError(
            f'{e} Its backbone is a {which} checkpoint, but the model is DRN-{backbone.arch}: use '
            f'a config for {which} (model.backbone.arch={archs[0]!r})') from None

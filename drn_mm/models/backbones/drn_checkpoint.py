"""DRN's checkpoint layouts, beside the model that owns them (timm's ``checkpoint_filter_fn``):
one function per foreign layout, the backbone's load hook, and the strict loads built on them.

Layouts (a ``module.`` prefix is stripped first):

- drn_mm / mmengine: ``backbone.*``, ``head.*``, ``decode_head.*``, ... (kept as they are).
- The authors' ImageNet checkpoints (github.com/fyu/drn), :func:`convert_imagenet_layout`: DRN-C
  ``conv1``/``bn1``/``layerN``/``fc``, DRN-D ``layer0.{0,1}``/``layerN``/``fc``; torchvision
  ResNets (DRN-A) share the C names with a Linear ``fc``. Result: ``backbone.*`` and ``head.fc.*``
  (1x1 conv weights).
- The authors' Cityscapes segmentation checkpoints, :func:`convert_cityscapes_layout`: ``base.K``
  (the backbone's children in order), ``seg`` (1x1 classifier) and ``up`` (bilinear transposed
  conv). Result: ``backbone.*``, ``decode_head.conv_seg.*`` and ``decode_head.up.weight``.

Who calls them: :func:`model_state_dict` (the one place a read whole-model file meets its
converter: :class:`~drn_mm.engine.DRNCheckpointHook` for every Runner's ``load_from`` /
``--resume``, :func:`load_into_model` for drn_mm's apis and tools), the ``drn://`` checkpoint
scheme (:mod:`drn_mm.apis.scheme`, which hands the authors' whole-model files to any OpenMMLab
entry point as mmengine checkpoints), :func:`load_backbone_checkpoint` (the backbone's
``init_cfg`` Pretrained) and :func:`adopt_backbone_keys`, the backbone's load-state-dict pre-hook,
which only renames the ImageNet names under its own prefix.
"""
import logging
import os.path as osp
import re
from collections import OrderedDict
from contextlib import contextmanager
from typing import List, Mapping, Optional

import numpy as np
import torch
import torch.nn as nn

from ..utils.checkpoint import (CheckpointMismatchError, check_state_dict_fits, describe,
                                extract_state_dict, load_checkpoint_file, strip_module_prefix)

__all__ = [
    'detect_layout', 'convert_imagenet_layout', 'convert_cityscapes_layout',
    'convert_drn_state_dict', 'is_authors_layout', 'to_mmengine_checkpoint', 'adopt_backbone_keys',
    'load_into_model', 'load_backbone_checkpoint', 'archs_fitting', 'check_fit', 'model_state_dict',
    'authors_dataset_meta'
]

#: The authors' layouts, in words, for errors
_LAYOUT_WORDS = {
    'reference_seg': "the authors' Cityscapes layout (base.*, seg.*, up.*)",
    'reference_c':
    "the authors' DRN-C / torchvision ImageNet layout (conv1.*, bn1.*, layerN.*, fc.*)",
    'reference_d': "the authors' DRN-D ImageNet layout (layer0.*, layerN.*, fc.*)",
}

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


def _convert_keys(state_dict: Mapping[str, torch.Tensor], layout: str,
                  convert_key) -> 'OrderedDict[str, torch.Tensor]':
    converted, unplaced = OrderedDict(), []
    for key, value in state_dict.items():
        new = convert_key(key)
        if new is None:
            unplaced.append(key)
            continue
        if new == 'head.fc.weight' and value.dim() == 2:  # Linear -> the equivalent 1x1 conv
            value = value[:, :, None, None]
        converted[new] = value
    if unplaced:
        raise CheckpointMismatchError(
            f'{len(unplaced)} keys of a {layout} checkpoint have no place in drn_mm: {unplaced[:5]}'
        )
    return converted


def convert_imagenet_layout(
        state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """The authors' DRN-C/D ImageNet keys (and torchvision's ResNet keys, DRN-A) -> drn_mm's
    (``backbone.*``, ``head.fc.*``)."""
    state_dict = strip_module_prefix(state_dict)
    return _convert_keys(state_dict, detect_layout(state_dict), convert_imagenet_key)


def convert_cityscapes_layout(
        state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """The authors' Cityscapes DRNSeg keys (``base.K``, ``seg``, ``up``) -> drn_mm's
    (``backbone.*``, ``decode_head.conv_seg.*``, ``decode_head.up.weight``)."""
    state_dict = strip_module_prefix(state_dict)
    d_style = 'base.0.0.weight' in state_dict
    return _convert_keys(state_dict, 'reference_seg', lambda key: _convert_seg_key(key, d_style))


#: layout -> its conversion to drn_mm's keys
LAYOUT_CONVERTERS = {
    'reference_seg': convert_cityscapes_layout,
    'reference_c': convert_imagenet_layout,
    'reference_d': convert_imagenet_layout,
}


def convert_drn_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Convert a DRN state dict of any known layout to drn_mm's full-model keys (the layout's own
    function of :data:`LAYOUT_CONVERTERS`).

    drn_mm's own layout comes back unchanged (less a ``module.`` prefix).

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
    return LAYOUT_CONVERTERS[layout](state_dict)


def is_authors_layout(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """A whole-model layout only the authors' DRN code writes (torchvision's ResNet layout, which
    mmseg's own ResNet reads as it is, is not one)."""
    state_dict = strip_module_prefix(state_dict)
    layout = detect_layout(state_dict)
    if layout == 'reference_seg':
        return 'seg.weight' in state_dict
    if layout in ('reference_c', 'reference_d'):
        return any(k.startswith('layer5.') for k in state_dict)
    return False


def _generic_seg_meta(num_classes: int) -> dict:
    """``class_0`` .. ``class_{n-1}`` and a fixed palette: for a segmentation file whose classes
    are not known (mmseg's ``init_model`` would otherwise name them after a data set of the same
    count, or Cityscapes' 19)."""
    rng = np.random.RandomState(0)
    return dict(
        classes=tuple(f'class_{i}' for i in range(num_classes)),
        palette=[[int(v) for v in rng.randint(0, 256, 3)] for _ in range(num_classes)])


def authors_dataset_meta(state_dict: Mapping[str, torch.Tensor],
                         filename: str = '') -> Optional[dict]:
    """Class names and palette for the authors' files: Cityscapes (19 classes, their only
    segmentation data) or ImageNet (1000 classes); generic names, said in the log, for a
    segmentation file of another class count."""
    seg = state_dict.get('decode_head.conv_seg.weight')
    if seg is not None and seg.shape[0] != 19:
        from mmengine.logging import print_log
        print_log(
            f'{filename}: a segmentation file of {seg.shape[0]} classes in the authors\' layout; '
            f'their only segmentation data is Cityscapes (19 classes): its classes are named '
            f'class_0 .. class_{seg.shape[0] - 1}', logger='current', level=logging.WARNING)
        return _generic_seg_meta(seg.shape[0])
    if seg is not None and seg.shape[0] == 19:
        try:
            from mmseg.utils import get_classes, get_palette
        except ImportError:
            return None
        return dict(
            classes=tuple(get_classes('cityscapes')),
            palette=[list(p) for p in get_palette('cityscapes')])
    fc = state_dict.get('head.fc.weight')
    if fc is not None and fc.shape[0] == 1000:
        try:
            from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
        except ImportError:
            return None
        return dict(classes=tuple(IMAGENET_CATEGORIES))
    return None


def to_mmengine_checkpoint(checkpoint, filename: str = 'checkpoint'):
    """A checkpoint in one of the authors' whole-model DRN layouts as an mmengine checkpoint of
    drn_mm's layout, ``{'state_dict', 'meta'}``, with ``meta['dataset_meta']`` for a 19-class
    Cityscapes or 1000-class ImageNet file (mmseg's ``init_model`` reads it); anything else
    unchanged."""
    if not isinstance(checkpoint, Mapping):
        return checkpoint
    state_dict = strip_module_prefix(extract_state_dict(checkpoint))
    if not is_authors_layout(state_dict):
        return checkpoint
    layout = detect_layout(state_dict)
    converted = convert_drn_state_dict(state_dict)
    meta = dict(converted_from=osp.basename(str(filename)), source_layout=layout)
    dataset_meta = authors_dataset_meta(converted, osp.basename(str(filename)))
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    return dict(state_dict=converted, meta=meta)


def _under(state_dict: Mapping[str, torch.Tensor], prefix: str) -> 'OrderedDict':
    """The entries of ``state_dict`` under ``prefix``, the prefix removed."""
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))


def _foreign_layout(state_dict, unexpected_keys=()) -> str:
    # torch and mmengine hand a child only its own keys; the top-level ones the parent did not
    # know are in the shared list of unexpected keys by then
    keys = dict.fromkeys(list(state_dict) or list(unexpected_keys))
    return detect_layout(strip_module_prefix(keys)) if keys else 'empty'


def _no_backbone_weights(module: nn.Module, state_dict, prefix: str, unexpected_keys=(),
                         source: str = 'the checkpoint',
                         seen: Optional[str] = None) -> CheckpointMismatchError:
    seen = seen or _foreign_layout(state_dict, unexpected_keys)
    words = _LAYOUT_WORDS.get(seen)
    found = (f' Its keys are in {words}, at the top level: mmengine\'s loaders read files as they '
             'are, and drn_mm does not change them.' if words else '')
    return CheckpointMismatchError(
        f'{source} holds no weights for {describe(module)} (no key starts with {prefix!r}): '
        f'loading it would leave the whole backbone at random weights.{found} Load the authors\' '
        'files through drn_mm\'s checkpoint scheme, which converts them: '
        '"drn://FILE" wherever a checkpoint is named (load_from, mmseg\'s init_model, '
        'MMSegInferencer weights, mmpretrain\'s get_model pretrained, load_checkpoint); through '
        'drn_mm\'s tools (tools/test.py, tools/train.py --pretrained, init_cfg=dict('
        'type="Pretrained", checkpoint=FILE)); or convert them once: '
        'python tools/convert_official_drn.py FILE OUT.pth --arch ARCH')


def adopt_backbone_keys(module, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs) -> None:
    """Load-state-dict pre-hook of :class:`~drn_mm.DRN`, whichever loader runs it (torch's
    ``load_state_dict``, mmengine's ``load_checkpoint``).

    Renames the authors' / torchvision ImageNet keys under ``prefix`` (``conv1``, ``bn1``,
    ``layer0.K``; ``fc`` dropped) to drn_mm's. Whether the weights fit is the caller's ``strict``
    to decide (torch raises on a strict load, mmengine raises or logs what it skipped), so
    ``strict=False`` means what it says; checked loads are :func:`load_into_model` (drn_mm's apis
    and tools) and :class:`~drn_mm.engine.DRNCheckpointHook` (any Runner). One case is refused at
    any strictness, as no partial load: a state dict with no weight at all for the backbone whose
    top-level keys are in one of the authors' layouts (a whole authors' file read as it is, which
    would leave the whole backbone at random weights): the error names the layout and the way
    that converts it (``drn://FILE``). With no weight for the backbone and keys of no DRN layout,
    a warning says so.
    """
    local = {k[len(prefix):]: k for k in state_dict if k.startswith(prefix)}
    if not local:
        seen = _foreign_layout(state_dict, unexpected_keys)
        error = _no_backbone_weights(module, state_dict, prefix, seen=seen)
        if seen in _LAYOUT_WORDS:
            raise error
        from mmengine.logging import print_log
        print_log(str(error), logger='current', level=logging.WARNING)
        return
    if 'stem.0.weight' not in local and ('conv1.weight' in local or 'layer0.0.weight' in local):
        for name, key in local.items():
            new = convert_imagenet_key(name)
            value = state_dict.pop(key)
            if new is not None and new.startswith('backbone.'):
                state_dict[prefix + new[len('backbone.'):]] = value


def _drn_backbones(model: nn.Module):
    """(prefix, module) of every DRN backbone in ``model`` (known by its preset table)."""
    return [(name + '.' if name else '', m) for name, m in model.named_modules()
            if hasattr(m, 'arch_settings') and hasattr(m, 'level_names')]


def revise_state_dict(state_dict: Mapping[str, torch.Tensor], revise_keys) -> 'OrderedDict':
    """mmengine's ``revise_keys``: ``re.sub(pattern, replacement, key)`` for each pair, in turn."""
    revised = OrderedDict(state_dict)
    for pattern, replacement in revise_keys or ():
        revised = OrderedDict((re.sub(pattern, replacement, k), v) for k, v in revised.items())
    return revised


def check_fit(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str,
              strict: bool = True) -> List[str]:
    """Check that a state dict of drn_mm's layout fits ``model``, changing nothing.

    - ``strict=True``: the whole state dict must fit the model (keys, shapes, finite values),
      else :class:`CheckpointMismatchError` naming ``source``, the keys and the arch the file fits.
    - ``strict=False`` (fine-tuning into another head): every DRN backbone of the model must still
      find all its weights (an error naming ``source`` otherwise).

    Returns the keys of the model a non-strict load leaves at their initialization (empty when
    strict).
    """
    if strict:
        with _arch_hint(getattr(model, 'backbone', None), state_dict, 'backbone.'):
            check_state_dict_fits(model, state_dict, describe(model), source=source)
        return []
    for prefix, drn in _drn_backbones(model):
        weights = _under(state_dict, prefix)
        if not weights:
            raise _no_backbone_weights(drn, state_dict, prefix, source=source)
        with _arch_hint(drn, weights, ''):
            check_state_dict_fits(drn, weights, describe(drn), source=source)
    expected = model.state_dict()
    return [
        k for k in expected if not k.endswith('num_batches_tracked') and (
            k not in state_dict or state_dict[k].shape != expected[k].shape)
    ]


def model_state_dict(
    model: nn.Module, checkpoint: Mapping,
    revise_keys=((r'^module\.', ''), )) -> 'OrderedDict[str, torch.Tensor]':
    """The weights of a read checkpoint in drn_mm's layout, for ``model``: ``revise_keys``
    applied (as mmengine's), then, if ``model`` holds a DRN backbone and the file is in one of
    the authors' layouts, that layout's converter (:data:`LAYOUT_CONVERTERS`). Any other file
    comes back as it is (less the revised keys)."""
    state_dict = revise_state_dict(extract_state_dict(checkpoint), revise_keys)
    layout = detect_layout(state_dict)
    if layout in LAYOUT_CONVERTERS and _drn_backbones(model):
        return convert_drn_state_dict(state_dict)
    return state_dict


def load_into_model(model: nn.Module, checkpoint: Mapping, source: str, strict: bool = True,
                    revise_keys=((r'^module\.', ''), ), logger=None) -> List[str]:
    """Load a read checkpoint (any known layout) into ``model``: converted
    (:func:`model_state_dict`), checked (:func:`check_fit`: the whole model when ``strict``, every
    DRN backbone otherwise), then loaded; with ``strict=False`` what does not fit elsewhere is
    skipped and logged by mmengine's ``load_state_dict``. Nothing is changed when a check fails.

    Returns the keys of the model that were not loaded (``strict=False``; empty when strict).
    """
    from mmengine.runner.checkpoint import load_state_dict

    state_dict = model_state_dict(model, checkpoint, revise_keys)
    skipped = check_fit(model, state_dict, source, strict)
    if strict:  # checked once, above (the authors' 2017 files lack num_batches_tracked)
        model.load_state_dict(state_dict, strict=False)
    else:
        load_state_dict(model, state_dict, strict=False, logger=logger)
    return skipped


def load_backbone_checkpoint(backbone: nn.Module, filename: str,
                             prefix: Optional[str] = None) -> None:
    """Load the backbone part of any known DRN checkpoint into ``backbone``, strictly (one read).

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
    sub = _under(state_dict, prefix)
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
    weights = _under(state_dict, prefix)
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

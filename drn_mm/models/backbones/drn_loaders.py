"""DRN checkpoints through every OpenMMLab loader, not only drn_mm's.

mmengine reads every checkpoint file through ``CheckpointLoader``'s schemes (a local path,
``http(s)://``, ...): mmseg's and mmpretrain's ``tools/test.py`` (``load_from``), ``init_model``,
the Inferencers, ``get_model(pretrained=...)``, ``load_checkpoint``, ``init_cfg`` Pretrained.
:func:`install_checkpoint_loaders` (run by ``import drn_mm``) wraps each scheme so that a file

- whose name carries the first hex digits of its SHA-256 (``drn_c_26-ddedf421.pth``, as the authors
  and OpenMMLab name their files) is checked against them: a truncated or corrupt download is an
  error naming the file and both digests, never a half-read model;
- that cannot be read raises :class:`UnreadableCheckpointError` naming it;
- in one of the authors' DRN layouts (Cityscapes ``base.K``/``seg``/``up``; DRN-C/D ImageNet
  ``layerN``/``fc``) comes back in drn_mm's (mmengine's) layout, ``{'state_dict', 'meta'}``, with
  ``meta['dataset_meta']`` for a 19-class Cityscapes or 1000-class ImageNet file (mmseg's
  ``init_model`` reads it: ``KeyError: 'meta'`` otherwise).

A torchvision ResNet file (the layout of the authors' DRN-A) is not touched here: mmseg's own
ResNet reads that layout as it is. The DRN backbone converts the keys under its own prefix
(:func:`adopt_backbone_keys`, a load-state-dict pre-hook) and refuses weights that do not fit it,
whichever loader calls it: a silent partial load of random weights is never the result.
"""
import os.path as osp
import re
from typing import Callable, List, Mapping, Optional

import torch

from ..utils.checkpoint import (CheckpointError, CheckpointMismatchError, UnreadableCheckpointError,
                                check_state_dict_fits, describe, extract_state_dict, read_error,
                                sha256_of, strip_module_prefix)
from .drn_checkpoint import _arch_hint, convert_drn_state_dict, convert_imagenet_key, detect_layout

__all__ = [
    'install_checkpoint_loaders', 'check_sha256_name', 'to_mmengine_checkpoint',
    'adopt_backbone_keys', 'ChecksumError', 'unwrapped_schemes'
]

#: ``name-<hex>.pth``: the hex digits are the start of the file's SHA-256 (torch.hub's convention)
_HASHED_NAME = re.compile(r'-([0-9a-f]{8,64})\.(pth|pt|ckpt)$')
_WRAPPED = '_drn_mm_wrapped'
#: the last file a wrapped loader read, named by the backbone's errors (they see only tensors)
_last_read = {'file': None}


class ChecksumError(UnreadableCheckpointError):
    """A file whose SHA-256 does not start with the digits its name carries."""


def check_sha256_name(filename: str) -> Optional[str]:
    """If ``filename`` is named ``*-<hex>.pth``, check that its SHA-256 starts with ``<hex>``.

    Returns the full digest when checked (``None`` for names without digits). Raises
    :class:`ChecksumError` naming the file, its size and both digests.
    """
    match = _HASHED_NAME.search(osp.basename(filename))
    if match is None or not osp.isfile(filename):
        return None
    digest = sha256_of(filename)
    if not digest.startswith(match.group(1)):
        raise ChecksumError(
            f'{filename}: its name says its SHA-256 starts with {match.group(1)}, but the file '
            f'({osp.getsize(filename):,} bytes) hashes to {digest[:len(match.group(1))]} '
            f'({digest}): the download is truncated or corrupt; download it again. (If you named '
            'this file yourself, drop the "-<hex>" ending: it is read as a checksum.)')
    return digest


def _is_authors_drn(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """A layout only the authors' DRN code writes (torchvision's ResNet layout is not one)."""
    layout = detect_layout(state_dict)
    if layout == 'reference_seg':
        return 'seg.weight' in state_dict
    if layout in ('reference_c', 'reference_d'):
        return any(k.startswith('layer5.') for k in state_dict)
    return False


def _dataset_meta(state_dict: Mapping[str, torch.Tensor]) -> Optional[dict]:
    """Class names and palette for the authors' files: Cityscapes (19 classes, their only
    segmentation data) or ImageNet (1000 classes)."""
    seg = state_dict.get('decode_head.conv_seg.weight')
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
    """A checkpoint in one of the authors' DRN layouts, converted to drn_mm's mmengine layout;
    anything else unchanged."""
    if not isinstance(checkpoint, Mapping):
        return checkpoint
    state_dict = strip_module_prefix(extract_state_dict(checkpoint))
    if not _is_authors_drn(state_dict):
        return checkpoint
    layout = detect_layout(state_dict)
    converted = convert_drn_state_dict(state_dict)
    meta = dict(converted_from=osp.basename(str(filename)), source_layout=layout)
    dataset_meta = _dataset_meta(converted)
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    return dict(state_dict=converted, meta=meta)


def _wrap(loader: Callable, local: bool) -> Callable:

    def load_drn_aware(filename, map_location=None):
        if local:
            check_sha256_name(osp.expanduser(filename))
        try:
            checkpoint = loader(filename, map_location)
        except (CheckpointError, FileNotFoundError):
            raise
        except Exception as e:  # truncated / corrupt / foreign files raise many types
            raise read_error(filename, e) from e
        _last_read['file'] = filename
        return to_mmengine_checkpoint(checkpoint, filename)

    load_drn_aware.__name__ = loader.__name__  # mmengine logs "Loads checkpoint by <name>"
    setattr(load_drn_aware, _WRAPPED, loader)
    return load_drn_aware


def unwrapped_schemes() -> List[str]:
    """The prefixes of mmengine's checkpoint schemes that drn_mm has not wrapped ('' is a local
    path); empty after :func:`install_checkpoint_loaders`."""
    from mmengine.runner import CheckpointLoader
    return [p for p, loader in CheckpointLoader._schemes.items() if not hasattr(loader, _WRAPPED)]


def install_checkpoint_loaders() -> None:
    """Wrap every scheme of mmengine's ``CheckpointLoader`` (idempotent)."""
    from mmengine.runner import CheckpointLoader
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if not hasattr(loader, _WRAPPED):
            CheckpointLoader.register_scheme(prefix, _wrap(loader, local=prefix == ''), force=True)


def adopt_backbone_keys(module, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs) -> None:
    """Load-state-dict pre-hook of :class:`~drn_mm.DRN`.

    Renames the authors' / torchvision ImageNet keys under ``prefix`` (``conv1``, ``bn1``,
    ``layer0.K``; ``fc`` dropped) to drn_mm's, then checks that the weights under ``prefix`` fit the
    backbone exactly: keys, shapes and finite values. Raises :class:`CheckpointMismatchError`
    (naming the preset the weights fit, if any) instead of leaving any layer at random weights.
    """
    local = {k[len(prefix):]: k for k in state_dict if k.startswith(prefix)}
    source = _last_read['file'] or 'the checkpoint'
    if not local:
        raise CheckpointMismatchError(
            f'{source} holds no weights for {describe(module)} (no key starts with {prefix!r}): '
            'loading it would leave the whole backbone at random weights. The authors\' DRN-A / '
            'torchvision ImageNet files load through init_cfg=dict(type="Pretrained", '
            'checkpoint=...), tools/train.py --pretrained, or convert them first: '
            'python tools/convert_official_drn.py')
    if 'stem.0.weight' not in local and ('conv1.weight' in local or 'layer0.0.weight' in local):
        for name, key in local.items():
            new = convert_imagenet_key(name)
            value = state_dict.pop(key)
            if new is not None and new.startswith('backbone.'):
                state_dict[prefix + new[len('backbone.'):]] = value
    weights = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    with _arch_hint(module, weights, ''):
        check_state_dict_fits(module, weights, describe(module), source=source)
    # the file's name served this load: a later load from memory must not be named after it
    _last_read['file'] = None

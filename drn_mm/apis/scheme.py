"""The ``drn://`` checkpoint scheme.

``drn://`` is drn_mm's own prefix, registered with mmengine's public
``CheckpointLoader.register_scheme`` (mmengine's other schemes are left as they are). A user opts
into it wherever OpenMMLab names a checkpoint (``load_from='drn://drn_d_22_cityscapes-...pth'``,
``init_model(cfg, 'drn://FILE')``, ``MMSegInferencer(weights='drn://FILE')``,
``get_model(name, pretrained='drn://FILE')``): what follows the prefix is a local path, a URL, or
a drn_mm model name (its metafile ``Weights``). The file is read once (the SHA-256 digits in its
name checked) and a file in the authors' layout comes back as an mmengine checkpoint of drn_mm's
layout with its ``dataset_meta``
(:func:`~drn_mm.models.backbones.drn_checkpoint.to_mmengine_checkpoint`).
"""
import os.path as osp

from ..models.backbones.drn_checkpoint import to_mmengine_checkpoint
from ..models.utils.checkpoint import load_checkpoint_file
from .model_index import model_index

__all__ = ['DRN_SCHEME', 'resolve_drn_uri', 'load_from_drn', 'register_checkpoint_scheme']

DRN_SCHEME = 'drn://'


def model_file_url(model: dict) -> str:
    """Where a metafile entry's file is: its ``Weights``, or, when ``Weights`` is ``drn://NAME``
    (what mmpretrain's ``get_model(NAME, pretrained=True)`` then loads through this scheme),
    the authors' file it is converted from (``Converted From: Weights``)."""
    weights = model['Weights']
    if weights.startswith(DRN_SCHEME):
        source = (model.get('Converted From') or {}).get('Weights')
        if not source:
            raise ValueError(f"{model['Name']}: Weights is {weights} but the metafile names no "
                             '"Converted From: Weights" file')
        return source
    return weights


def resolve_drn_uri(uri: str) -> str:
    """What a ``drn://`` URI names: a local file, a URL, or a drn_mm model's ``Weights``."""
    target = uri[len(DRN_SCHEME):] if uri.startswith(DRN_SCHEME) else uri
    if '://' in target or osp.isfile(osp.expanduser(target)):
        return target
    name = target[:-len('.pth')] if target.endswith('.pth') else target
    for model in model_index():
        if model['Name'].lower() == name.lower() and model.get('Weights'):
            return model_file_url(model)
    raise FileNotFoundError(
        f'{uri}: no such file, and {name!r} is not a drn_mm model with weights; a drn:// '
        'checkpoint is drn://PATH, drn://URL or drn://MODEL_NAME (the names: python -c "from '
        'drn_mm.apis import model_index; print([m[\'Name\'] for m in model_index()])")')


def load_from_drn(filename: str, map_location=None) -> dict:
    """mmengine checkpoint loader of the ``drn://`` scheme: read once, converted to drn_mm's
    layout with its ``dataset_meta`` when the file is in the authors' layout. (Named as
    mmengine's own loaders, ``load_from_<scheme>``: mmengine logs "Loads checkpoint by drn
    backend" from the name.)"""
    target = resolve_drn_uri(filename)
    return to_mmengine_checkpoint(
        load_checkpoint_file(target, map_location=map_location or 'cpu'), target)


def register_checkpoint_scheme() -> None:
    """Register ``drn://`` with mmengine's ``CheckpointLoader`` (its public API; idempotent:
    an existing ``drn://`` loader of drn_mm's is kept)."""
    from mmengine.runner import CheckpointLoader
    if CheckpointLoader._schemes.get(DRN_SCHEME) is not load_from_drn:
        CheckpointLoader.register_scheme(DRN_SCHEME, load_from_drn, force=True)

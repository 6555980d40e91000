"""Checkpoints of whole models: load any known DRN layout into a built model, convert and publish
files (the ``drn://`` scheme: :mod:`drn_mm.apis.scheme`)."""
import os
import os.path as osp
from typing import Dict

import torch

from ..engine.atomic import atomic_write
from ..models.backbones.drn import DRN
from ..models.backbones.drn_checkpoint import (authors_dataset_meta, convert_drn_state_dict,
                                               detect_layout, is_authors_layout, load_into_model,
                                               to_mmengine_checkpoint)
from ..models.utils.checkpoint import (check_state_dict_fits, describe, extract_state_dict,
                                       load_checkpoint_file, strip_module_prefix)
from ..version import __version__

__all__ = ['load_model_checkpoint', 'convert_checkpoint_file', 'publish_checkpoint']


def load_model_checkpoint(model, checkpoint: str, strict: bool = True):
    """Load any known DRN checkpoint into a built model (strictly by default: every weight of the
    model from the file) and set ``model.dataset_meta`` from the file (its meta, or the classes of
    an authors' file), as mmseg's ``init_model`` does; returns the checkpoint as read."""
    raw = load_checkpoint_file(checkpoint)
    load_into_model(model, raw, source=checkpoint, strict=strict)
    meta = raw.get('meta') if isinstance(raw.get('meta'), dict) else {}
    dataset_meta = meta.get('dataset_meta')
    if dataset_meta is None and is_authors_layout(extract_state_dict(raw)):
        # the model now holds the file's weights in drn_mm's keys: no second conversion
        dataset_meta = authors_dataset_meta(model.state_dict(), osp.basename(checkpoint))
    if dataset_meta:
        model.dataset_meta = dict(dataset_meta)
    return raw


def convert_checkpoint_file(src: str, dst: str, arch: str) -> Dict[str, object]:
    """Convert a foreign DRN checkpoint to an mmengine-style drn_mm checkpoint, checked.

    The backbone part is checked against ``DRN(arch=arch)``: a checkpoint of another arch raises
    :class:`CheckpointMismatchError` and nothing is written. Returns a summary.
    """
    raw = load_checkpoint_file(src)
    source = extract_state_dict(raw)
    # a drn:// source comes back converted, with the layout the file had in its meta
    layout = (raw.get('meta') or {}).get('source_layout') or detect_layout(
        strip_module_prefix(source))
    state_dict = convert_drn_state_dict(source)
    backbone = {k[len('backbone.'):]: v for k, v in state_dict.items() if k.startswith('backbone.')}
    model = DRN(arch=arch)
    check_state_dict_fits(model, backbone, describe(model), source=src)
    checkpoint = dict(
        state_dict=state_dict, meta=dict(drn_mm_version=__version__, arch=arch,
                                         converted_from=osp.basename(src), source_layout=layout))
    atomic_write(dst, lambda tmp: torch.save(checkpoint, tmp))
    return dict(arch=arch, layout=layout, num_tensors=len(state_dict),
                heads=sorted({k.split('.')[0]
                              for k in state_dict} - {'backbone'}))


def publish_checkpoint(src: str, dst: str) -> str:
    """Write ``src``'s weights in drn_mm's layout (the authors' files converted) and meta (no
    optimizer, scheduler or message-hub state) to
    ``<dst without .pth>-<first 8 hex of its SHA-256>.pth``, the name drn_mm's loaders check;
    returns that path. Non-finite weights are refused."""
    from ..models.utils.checkpoint import check_finite, sha256_of
    checkpoint = to_mmengine_checkpoint(load_checkpoint_file(src), src)  # the authors' too
    state_dict = convert_drn_state_dict(extract_state_dict(checkpoint))
    check_finite(state_dict, src)
    meta = dict(checkpoint.get('meta') or {})
    meta = {
        k: v
        for k, v in meta.items()
        if k in ('dataset_meta', 'epoch', 'iter', 'seed', 'experiment_name', 'mmengine_version')
    }
    stem = dst[:-len('.pth')] if dst.endswith('.pth') else dst
    tmp = stem + '.publishing.pth'
    os.makedirs(osp.dirname(osp.abspath(tmp)), exist_ok=True)
    atomic_write(tmp, lambda t: torch.save(dict(state_dict=dict(state_dict), meta=meta), t))
    final = f'{stem}-{sha256_of(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final

"""The DRN score from files: a checkpoint (+ config) -> model -> score (what tools/drn_score.py
runs). The protocols and the exact reference computations: :mod:`drn_mm.evaluation.synthesis`."""
from typing import Mapping, Optional

from ..evaluation.synthesis import ScoreInputError, score_images
from ..models.backbones.drn import DRN
from ..models.backbones.drn_checkpoint import archs_fitting, convert_drn_state_dict
from ..models.utils.checkpoint import extract_state_dict, load_checkpoint_file
from .model import init_segmentor
from .model_index import get_config

__all__ = ['config_for_checkpoint', 'init_scoring_model', 'drn_score']


def config_for_checkpoint(checkpoint: str, read: Optional[Mapping] = None) -> str:
    """drn_mm's Cityscapes config of the arch a checkpoint's backbone fits
    (``drn-d-105_ms_cityscapes.pth`` -> ``configs/drn/drn_d_105_cityscapes.py``); ``read``: the
    checkpoint already read from that file."""
    read = load_checkpoint_file(checkpoint) if read is None else read
    state_dict = convert_drn_state_dict(extract_state_dict(read))
    archs = archs_fitting(DRN, state_dict, 'backbone.')
    for arch in archs:
        try:
            return get_config(f"drn_{arch.lower().replace('-', '_')}_cityscapes")
        except ValueError:
            continue
    if not archs:
        raise ScoreInputError(
            f'{checkpoint}: its backbone fits no DRN preset (its widths or depths are not one of '
            f'{sorted(DRN.arch_settings)}), so drn_mm cannot pick a config for it: pass --config '
            'CONFIG, the config the checkpoint was trained with')
    raise ScoreInputError(
        f'{checkpoint}: its backbone fits {archs}, for which drn_mm has no Cityscapes config; '
        'pass --config CONFIG')


def init_scoring_model(checkpoint: str, config: Optional[str] = None, device: str = 'cpu',
                       read: Optional[Mapping] = None):
    """The segmentor of ``checkpoint`` (the authors' files as they are), in eval mode; ``read``:
    the checkpoint already read from that file (else it is read here, once)."""
    read = load_checkpoint_file(checkpoint) if read is None else read
    return init_segmentor(
        config or config_for_checkpoint(checkpoint, read), read, device=device, source=checkpoint)


def drn_score(images: str, labels: str, checkpoint: str, config: Optional[str] = None,
              device: str = 'cpu', **kwargs):
    """Build the model and score; ``kwargs`` as :func:`~drn_mm.evaluation.synthesis.score_images`.
    The checkpoint file is read once: its SHA-256 (in the report) comes from the same bytes."""
    read, digest = load_checkpoint_file(checkpoint, with_sha256=True)
    model = init_scoring_model(checkpoint, config, device, read=read)
    return score_images(model, images, labels, checkpoint=checkpoint, checkpoint_sha256=digest,
                        **kwargs)

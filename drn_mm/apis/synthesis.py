"""The DRN score from files: a checkpoint (+ config) -> model -> score (what tools/drn_score.py
runs). The protocols and the exact reference computations: :mod:`drn_mm.evaluation.synthesis`."""
from typing import Optional

from ..evaluation.synthesis import ScoreInputError, score_images
from ..models.backbones.drn import DRN
from ..models.backbones.drn_checkpoint import archs_fitting, convert_drn_state_dict
from ..models.utils.checkpoint import extract_state_dict, load_checkpoint_file
from .hub import get_config
from .model import init_segmentor

__all__ = ['config_for_checkpoint', 'init_scoring_model', 'drn_score']


def config_for_checkpoint(checkpoint: str) -> str:
    """drn_mm's Cityscapes config of the arch a checkpoint's backbone fits
    (``drn-d-105_ms_cityscapes.pth`` -> ``configs/drn/drn_d_105_cityscapes.py``)."""
    state_dict = convert_drn_state_dict(extract_state_dict(load_checkpoint_file(checkpoint)))
    archs = archs_fitting(DRN, state_dict, 'backbone.')
    for arch in archs:
        try:
            return get_config(f"drn_{arch.lower().replace('-', '_')}_cityscapes")
        except ValueError:
            continue
    raise ScoreInputError(
        f'{checkpoint}: its backbone fits {archs or "no DRN preset"}, for which drn_mm has no '
        'Cityscapes config; pass --config')


def init_scoring_model(checkpoint: str, config: Optional[str] = None, device: str = 'cpu'):
    """The segmentor of ``checkpoint`` (the authors' files as they are), in eval mode."""
    return init_segmentor(config or config_for_checkpoint(checkpoint), checkpoint, device=device)


def drn_score(images: str, labels: str, checkpoint: str, config: Optional[str] = None,
              device: str = 'cpu', **kwargs):
    """Build the model and score; ``kwargs`` as :func:`~drn_mm.evaluation.synthesis.score_images`.
    """
    model = init_scoring_model(checkpoint, config, device)
    return score_images(model, images, labels, checkpoint=checkpoint, **kwargs)

"""Deployment from files: fold a segmentor checkpoint's BatchNorms (what tools/fold_bn.py runs);
the folding itself is :mod:`drn_mm.deploy.fold_bn`."""
import copy
from typing import Dict, Optional, Sequence

import torch

from ..deploy.fold_bn import fold_batchnorm, unfolded_batchnorms
from ..engine.atomic import atomic_write
from .checkpoint import load_model_checkpoint
from .config import read_config
from .model import build_model

__all__ = ['fold_segmentor_checkpoint']


def fold_segmentor_checkpoint(
    config: str, checkpoint: str, out: str, cfg_options: Optional[dict] = None,
    verify_size: Sequence[int] = (64, 128)) -> Dict[str, object]:
    """Fold the BatchNorms of ``config``'s segmentor with ``checkpoint``'s weights into its convs
    and save the folded weights to ``out`` (load them with
    :func:`drn_mm.deploy.load_folded_checkpoint`).

    The folded model is checked against the unfolded one (eval mode, fp32) on a random input of
    ``verify_size``; returns ``max_abs_err``, ``max_rel_err`` (over max |unfolded logits|),
    ``folded`` (number of BNs folded) and ``unfolded`` (names of BNs that stayed).
    """
    model = build_model(read_config(config, cfg_options))
    load_model_checkpoint(model, checkpoint)
    model.eval()
    before = len(unfolded_batchnorms(model))
    folded = fold_batchnorm(copy.deepcopy(model))
    inputs = torch.randn(1, 3, *verify_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(inputs, mode='tensor')
        actual = folded(inputs, mode='tensor')
    err = (actual - expected).abs().max().item()
    left = unfolded_batchnorms(folded)
    report = dict(max_abs_err=err, max_rel_err=err / max(expected.abs().max().item(), 1e-12),
                  folded=before - len(left), unfolded=left)
    saved = dict(
        state_dict=folded.state_dict(),
        meta=dict(bn_folded=True, config=config, source_checkpoint=checkpoint, verification=report))
    atomic_write(out, lambda tmp: torch.save(saved, tmp))
    return report

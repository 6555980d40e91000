"""Inputs of the measurements: preprocessed random batches, and BN statistics to run them on.

Models come from :func:`drn_mm.apis.build_model` (random weights: they do not change speed).
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..apis import model_task
from ..datasets.synthetic import make_data_samples, synthetic_images

__all__ = ['calibrate_batchnorm', 'predict_batch']


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


def predict_batch(model: nn.Module, batch: int, size: Sequence[int],
                  seed: int = 0) -> Tuple[torch.Tensor, list]:
    """Preprocessed ``(inputs, data_samples)`` for ``model.predict`` / ``model(..., 'tensor')``,
    made by the model's own data preprocessor from random images, on the model's device."""
    device = next(model.parameters()).device
    data = dict(
        inputs=synthetic_images(batch, size, device, seed),
        data_samples=make_data_samples(model_task(model), batch, size))
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
    return data['inputs'], data['data_samples']

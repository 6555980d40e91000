"""Inputs of the measurements: preprocessed random batches, and BN statistics to run them on.

Models come from :func:`drn_mm.apis.build_model` (random weights: they do not change speed).
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn

from ..apis import model_task
from ..datasets.synthetic import make_data_samples, synthetic_images
from ..deploy.fold_bn import calibrate_batchnorm  # noqa: F401  (re-exported)

__all__ = ['calibrate_batchnorm', 'predict_batch']


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

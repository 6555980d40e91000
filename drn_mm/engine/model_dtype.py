"""A whole model in one floating-point dtype, float64 above all: numerically exact comparisons.

Two runs that should compute the same numbers (one process against two with SyncBN, a resumed
run against an uninterrupted one) differ in float32 by the rounding of kernels that sum in
another order, and CPUs differ in their kernels (AVX2, AVX-512, AMX): a float32 comparison that
holds on one machine can fail on another. In float64 the same rounding is 2**29 times smaller, so
such comparisons hold with tight tolerances on every machine. Set ``model_dtype = 'float64'`` in
a config (or ``--cfg-options model_dtype=float64``): :class:`~drn_mm.engine.DRNRunner` converts
the model before wrapping it, and the data preprocessor's float32 output is cast to match.
"""
from typing import Union

import torch
import torch.nn as nn

__all__ = ['FLOAT_DTYPES', 'set_model_dtype']

FLOAT_DTYPES = {'float64': torch.float64, 'float32': torch.float32}


def _cast_inputs(dtype: torch.dtype):

    def hook(module, args, output):
        if isinstance(output, dict) and torch.is_tensor(output.get('inputs')):
            output['inputs'] = output['inputs'].to(dtype)
        return output

    return hook


def set_model_dtype(model: nn.Module, dtype: Union[str, torch.dtype]) -> nn.Module:
    """Convert ``model``'s floating-point parameters and buffers to ``dtype`` ('float64' or
    'float32'), in place, and make its ``data_preprocessor`` (if any) hand the model inputs of
    that dtype. Returns ``model``."""
    if isinstance(dtype, str):
        if dtype not in FLOAT_DTYPES:
            raise ValueError(f'model_dtype={dtype!r}; valid: {sorted(FLOAT_DTYPES)}')
        dtype = FLOAT_DTYPES[dtype]
    model.to(dtype)
    preprocessor = getattr(model, 'data_preprocessor', None)
    if preprocessor is not None:
        preprocessor.register_forward_hook(_cast_inputs(dtype))
    return model

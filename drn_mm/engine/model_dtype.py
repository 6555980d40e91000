"""A whole model in one floating-point dtype, float64 above all: numerically exact comparisons.

Two runs that should compute the same numbers (one process against two with SyncBN, a resumed
run against an uninterrupted one) differ in float32 by the rounding of kernels that sum in
another order, and CPUs differ in their kernels (AVX2, AVX-512, AMX): a float32 comparison that
holds on one machine can fail on another. In float64 the same rounding is 2**29 times smaller, so
such comparisons hold with tight tolerances on every machine. Test machinery, in the places
mmengine gives it: :class:`ModelDtypeHook` (a hook; in a config's ``default_hooks``, e.g.
``--cfg-options default_hooks.model_dtype.type=ModelDtypeHook
default_hooks.model_dtype.dtype=float64``) converts a one-process run's model before anything
runs; a distributed run converts it in its model wrapper, before DDP sees it
(``model_wrapper_cfg.model_dtype=float64``,
:class:`~drn_mm.engine.distributed.CPUDistributedDataParallel`). The data preprocessor's float32
output is cast to match.
"""
from typing import Union

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

__all__ = ['FLOAT_DTYPES', 'set_model_dtype', 'ModelDtypeHook']

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


@HOOKS.register_module()
class ModelDtypeHook(Hook):
    """Convert the Runner's model to ``dtype`` before the run (see the module docstring).

    Parameters keep their identity (``Module.to`` converts them in place), so an optimizer built
    before ``before_run`` still holds them. A model in a distributed wrapper must be converted
    by the wrapper (DDP's buckets are made at wrapping): it is refused here unless already of
    ``dtype``."""
    priority = 'HIGHEST'

    def __init__(self, dtype: str = 'float64'):
        if dtype not in FLOAT_DTYPES:
            raise ValueError(f'ModelDtypeHook(dtype={dtype!r}); valid: {sorted(FLOAT_DTYPES)}')
        self.dtype = FLOAT_DTYPES[dtype]

    def before_run(self, runner) -> None:
        model = runner.model
        params = list(model.parameters())
        if params and all(p.dtype == self.dtype for p in params if p.is_floating_point()):
            return
        if is_model_wrapper(model):
            raise ValueError(f'ModelDtypeHook: the model is already wrapped '
                             f'({type(model).__name__}); in a distributed run set '
                             f'model_wrapper_cfg.model_dtype={self.dtype} instead')
        set_model_dtype(model, self.dtype)

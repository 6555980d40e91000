from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """bf16 mixed precision training: forward under ``torch.autocast(dtype=torch.bfloat16)``,
    plain fp32 backward and step.

    bf16 has fp32's exponent range, so unlike fp16 it needs no loss scaling: mmengine's
    ``AmpOptimWrapper`` keeps a ``GradScaler`` even for bf16 (scale, unscale and an inf check of
    every gradient each step) and refuses to run without a GPU. This wrapper does neither and
    works on CUDA and on CPU. Use ``AmpOptimWrapper(dtype='float16')`` on GPUs without bf16.
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type=device, dtype=torch.bfloat16):
            yield


def set_mixed_precision(wrapper: dict, dtype: torch.dtype) -> dict:
    """Make an optim wrapper config train under autocast to ``dtype``, in place: bfloat16 ->
    :class:`BF16OptimWrapper` (no loss scaling); float16 -> mmengine's ``AmpOptimWrapper`` with
    dynamic loss scaling (unless the config sets ``loss_scale``). Returns ``wrapper``."""
    if dtype == torch.bfloat16:
        wrapper['type'] = 'BF16OptimWrapper'
    elif dtype == torch.float16:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper['dtype'] = 'float16'
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        raise ValueError(f'mixed precision dtype={dtype}; valid: torch.bfloat16, torch.float16')
    return wrapper

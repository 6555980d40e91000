"""Validation and test loops under mixed precision with a chosen dtype (bf16 where supported).

mmengine's ``ValLoop(fp16=True)`` / ``TestLoop(fp16=True)`` autocast to float16 on GPUs. These
loops autocast to ``dtype`` instead; the default 'auto' is bfloat16 where the device supports it
(CPUs, Ampere and newer GPUs) and float16 otherwise. In a config::

    val_cfg = dict(type='AmpValLoop')
    test_cfg = dict(type='AmpTestLoop')
"""
from typing import Optional, Union

import torch
from mmengine.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop

__all__ = ['AmpValLoop', 'AmpTestLoop', 'amp_dtype']

AMP_DTYPES = ('auto', 'bfloat16', 'float16')


def amp_dtype(device_type: str, dtype: Union[str, torch.dtype, None] = 'auto') -> torch.dtype:
    """The autocast dtype for ``device_type`` ('cuda' or 'cpu'): 'auto' (or None) is bfloat16
    where supported, else float16 (CPU autocast supports bfloat16 only)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in AMP_DTYPES + (None, ):
        raise ValueError(f'amp dtype={dtype!r}; valid: {AMP_DTYPES}')
    if dtype in ('auto', None):
        if device_type == 'cuda' and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16
    return getattr(torch, dtype)


def _device_type() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


class _AmpLoopMixin:

    def _init_amp(self, dtype: Optional[str]):
        self.fp16 = True  # mmengine's own autocast inside run_iter then keeps our dtype
        self.device_type = _device_type()
        self.amp_dtype = amp_dtype(self.device_type, dtype)

    def run_iter(self, idx, data_batch):
        with torch.autocast(self.device_type, dtype=self.amp_dtype):
            super().run_iter(idx, data_batch)


@LOOPS.register_module()
class AmpValLoop(_AmpLoopMixin, ValLoop):
    """``ValLoop`` under autocast to ``dtype`` ('auto', 'bfloat16' or 'float16')."""

    def __init__(self, runner, dataloader, evaluator, dtype: Optional[str] = 'auto'):
        super().__init__(runner, dataloader, evaluator, fp16=True)
        self._init_amp(dtype)


@LOOPS.register_module()
class AmpTestLoop(_AmpLoopMixin, TestLoop):
    """``TestLoop`` under autocast to ``dtype`` ('auto', 'bfloat16' or 'float16')."""

    def __init__(self, runner, dataloader, evaluator, dtype: Optional[str] = 'auto'):
        super().__init__(runner, dataloader, evaluator, fp16=True)
        self._init_amp(dtype)

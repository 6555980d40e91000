"""What a benchmark run measures: execution modes and settings.

Inference and training speed of segmentors and classifiers, side by side, in several
execution modes.

A *mode* is a precision plus optional flags joined by ``_``:

- precision: ``fp32`` (PyTorch defaults; on Ampere+ GPUs cuDNN convs may use TF32, recorded in
  the results' meta), ``amp`` (autocast to bf16 where supported, else fp16), ``bf16``, ``fp16``;
- ``cl``: channels_last (NHWC) model and inputs (:func:`drn_mm.engine.to_channels_last`);
- ``fold``: BatchNorm folded into the convs (:func:`drn_mm.deploy.fold_batchnorm`; inference only);
- ``compile``: ``torch.compile`` (static shapes). Inference compiles a segmentor's
  ``encode_decode`` (predict path) or ``_forward`` (tensor path), a classifier's
  ``extract_feat`` (backbone and neck; the small head stays eager); training compiles
  ``model.train_step`` exactly as mmengine's Runner does for ``compile=True``.

E.g. ``fp32``, ``amp_cl``, ``amp_cl_compile``, ``amp_cl_fold``.
"""
import contextlib
import copy
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import torch

from ..engine.loops import amp_dtype
from ..engine.optim import set_mixed_precision

__all__ = [
    'PRECISIONS', 'FLAGS', 'INFER_PATHS', 'TRAIN_LOOPS', 'Mode', 'parse_mode', 'BenchmarkSettings',
    'default_settings', 'resolve_device', 'optim_wrapper_cfg'
]

PRECISIONS = ('fp32', 'amp', 'bf16', 'fp16')
FLAGS = ('cl', 'fold', 'compile')
INFER_PATHS = ('predict', 'tensor')
TRAIN_LOOPS = ('runner', 'bare', 'train_py')
_PRECISION_DTYPE = {'amp': 'auto', 'bf16': 'bfloat16', 'fp16': 'float16'}


@dataclass(frozen=True)
class Mode:
    name: str
    precision: str = 'fp32'
    channels_last: bool = False
    fold_bn: bool = False
    compile: bool = False

    def dtype(self, device_type: str) -> Optional[torch.dtype]:
        """The autocast dtype on ``device_type``, or None for fp32."""
        if self.precision == 'fp32':
            return None
        return amp_dtype(device_type, _PRECISION_DTYPE[self.precision])

    def autocast(self, device_type: str):
        dtype = self.dtype(device_type)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type, dtype=dtype)


def parse_mode(name: str) -> Mode:
    """``'amp_cl_compile'`` -> ``Mode(precision='amp', channels_last=True, compile=True)``."""
    precision, *flags = name.split('_')
    if precision not in PRECISIONS:
        raise ValueError(f'mode {name!r}: precision {precision!r} is not one of {PRECISIONS} '
                         f'(a mode is a precision and flags {FLAGS} joined by "_", e.g. amp_cl)')
    unknown = [f for f in flags if f not in FLAGS]
    if unknown or len(set(flags)) != len(flags):
        raise ValueError(f'mode {name!r}: flags {flags} must be distinct, from {FLAGS}')
    return Mode(name, precision, 'cl' in flags, 'fold' in flags, 'compile' in flags)


@dataclass
class BenchmarkSettings:
    """What to measure; :func:`default_settings` gives the per-device defaults."""
    device: str = 'cpu'
    infer_size: Sequence[int] = (64, 128)
    infer_batches: Sequence[int] = (1, 2)
    train_size: Sequence[int] = (64, 128)
    train_batch: int = 2
    modes: Sequence[str] = ('fp32', 'amp_cl')
    train_modes: Sequence[str] = ('fp32', )
    train_loops: Sequence[str] = TRAIN_LOOPS
    warmup: int = 2
    repeats: int = 3
    infer_iters: int = 1
    train_iters: int = 1
    infer_path: str = 'predict'
    check_accuracy: bool = False
    cudnn_benchmark: bool = True
    compile_backend: str = 'inductor'
    compile_mode: Optional[str] = None
    flops_size: Optional[Sequence[int]] = None  # default: infer_size
    cpu_threads: Optional[int] = None  # torch.set_num_threads (CPU runs); default: torch's
    train_workers: Optional[int] = None  # train_py loop's DataLoader workers; default: config's
    seed: int = 0
    interleave: bool = True  # inference: every model and mode in turn within each repeat
    roofline: bool = True  # CPU, interleaved: time each dtype's peak in the same repeats

    def validate(self):
        for name in list(self.modes) + list(self.train_modes):
            parse_mode(name)
        if any(parse_mode(m).fold_bn for m in self.train_modes):
            raise ValueError('BN folding is an inference transform: no "fold" in train modes')
        if self.infer_path not in INFER_PATHS:
            raise ValueError(f'infer_path={self.infer_path!r}; valid: {INFER_PATHS}')
        bad = [loop for loop in self.train_loops if loop not in TRAIN_LOOPS]
        if bad:
            raise ValueError(f'train_loops {bad}; valid: {TRAIN_LOOPS}')
        if self.train_workers is not None and self.train_workers < 0:
            raise ValueError(f'train_workers={self.train_workers}; must be >= 0')
        if self.warmup < 1 or self.repeats < 1 or self.infer_iters < 1 or self.train_iters < 1:
            raise ValueError('warmup, repeats and iters must be >= 1')
        for size in (self.infer_size, self.train_size):
            if len(size) != 2 or min(size) < 8:
                raise ValueError(f'sizes are (height, width), each >= 8; got {tuple(size)}')


#: CPU defaults (tiny sizes: a run takes seconds)
_CPU_DEFAULTS = dict(
    infer_size=(64, 128), infer_batches=(1, 2), train_size=(64, 128), train_batch=2,
    modes=('fp32', 'amp_cl'), train_modes=('fp32', ), warmup=2, repeats=3, infer_iters=1,
    train_iters=1)
#: what a GPU changes: modes and repeats ...
_GPU_DEFAULTS = dict(
    modes=('fp32', 'amp_cl', 'amp_cl_compile'), train_modes=('fp32', 'amp_cl'), warmup=3, repeats=5)
#: ... and sizes per (device, task): full Cityscapes / ImageNet sizes on a GPU
_SIZES = {
    ('cuda', 'seg'):
    dict(
        infer_size=(1024, 2048), infer_batches=(1, 4), train_size=(512, 1024), train_batch=8,
        infer_iters=3, train_iters=2),
    ('cuda', 'cls'):
    dict(
        infer_size=(224, 224), infer_batches=(1, 64), train_size=(224, 224), train_batch=32,
        infer_iters=5, train_iters=5),
    ('cpu', 'cls'):
    dict(infer_size=(64, 64), train_size=(64, 64)),
}


def default_settings(device: str, task: str = 'seg') -> Dict[str, object]:
    """Defaults per device and task: full Cityscapes / ImageNet sizes on a GPU, tiny ones
    (seconds) on a CPU."""
    values = dict(_CPU_DEFAULTS)
    if device == 'cuda':
        values.update(_GPU_DEFAULTS)
    values.update(_SIZES.get((device, task), {}))
    return values


def resolve_device(device: str) -> torch.device:
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    return torch.device(device)


def optim_wrapper_cfg(cfg, mode: Mode, device: torch.device) -> dict:
    """The config's ``optim_wrapper`` (a copy) with ``mode``'s precision, as ``--amp`` sets it."""
    wrapper = copy.deepcopy(cfg.optim_wrapper.to_dict() if hasattr(cfg.optim_wrapper, 'to_dict'
                                                                   ) else dict(cfg.optim_wrapper))
    dtype = mode.dtype(device.type)
    if dtype is not None:  # as tools/train.py --amp and the amp configs
        set_mixed_precision(wrapper, dtype)
    return wrapper

"""Timing: warm-up, repeats, synchronization, memory; releasing what a measurement held."""
import contextlib
import gc
import time
from statistics import mean, median, pstdev
from typing import Callable, Dict, Sequence

import torch

__all__ = [
    'summarize', 'time_calls', 'strict_fp32', 'release', 'compile_fn', 'halve_batch_until_it_fits'
]


def _sync(device: torch.device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def summarize(samples_s: Sequence[float]) -> Dict[str, object]:
    ms = [s * 1e3 for s in samples_s]
    med = median(ms)
    return dict(median=med, min=min(ms), max=max(ms), mean=mean(ms), std=pstdev(ms),
                spread_pct=100.0 * (max(ms) - min(ms)) / med if med > 0 else 0.0, samples=ms)


def time_calls(fn: Callable[[], object], device: torch.device, warmup: int, repeats: int,
               iters: int) -> Dict[str, object]:
    """Time ``fn``: ``warmup`` calls (the first timed alone), then ``repeats`` x ``iters`` calls.

    Returns:
        dict: ``first_call_s``, ``ms`` (summary of the per-call time over the repeats; see
        :func:`summarize`) and ``peak_mem_mb`` (CUDA) or None.
    """
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        fn()
    _sync(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    samples = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        _sync(device)
        samples.append((time.perf_counter() - start) / iters)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == 'cuda' else None
    return dict(first_call_s=first, ms=summarize(samples), peak_mem_mb=peak)


@contextlib.contextmanager
def strict_fp32():
    """No TF32 inside (the fp32 reference of accuracy checks), and no cuDNN autotuning: the
    reference runs once, so autotuning it would only cost time."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = cudnn.allow_tf32, matmul.allow_tf32, cudnn.benchmark
    cudnn.allow_tf32 = matmul.allow_tf32 = cudnn.benchmark = False
    try:
        yield
    finally:
        cudnn.allow_tf32, matmul.allow_tf32, cudnn.benchmark = saved


def release(device: torch.device, compiled: bool = False):
    if compiled:
        torch._dynamo.reset()  # compiled code is keyed on the model: drop it with the model
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def compile_fn(fn, settings):
    """``torch.compile`` with the settings' backend and mode, static shapes."""
    return torch.compile(fn, backend=settings.compile_backend, mode=settings.compile_mode,
                         dynamic=False)


def halve_batch_until_it_fits(batch: int, attempt: Callable[[int], object],
                              release: Callable[[], None]):
    """``(batch, attempt(batch))``, halving ``batch`` while ``attempt`` runs out of GPU memory
    (at batch 1 the error is raised); ``release()`` runs after every attempt."""
    while True:
        try:
            return batch, attempt(batch)
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            batch //= 2
        finally:
            release()

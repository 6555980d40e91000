"""Timing candidates side by side on a shared, noisy machine: in turn within each repeat, the order
rotated from repeat to repeat, so a slow minute slows all of them. Used by the 'auto' precision
choice (:func:`drn_mm.deploy.precision.choose_precision`) and by the benchmark
(:mod:`drn_mm.benchmark.interleaved` adds ratios and their spreads)."""
import time
from typing import Callable, Dict, List

import torch

__all__ = ['interleaved_times']


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def interleaved_times(fns: Dict[str, Callable[[], object]], repeats: int = 10, iters: int = 1,
                      warmup: int = 1) -> Dict[str, List[float]]:
    """Seconds per call of each candidate, one value per repeat; within a repeat the candidates
    run one after the other, in an order rotated from repeat to repeat."""
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    _sync()
    samples = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            for _ in range(iters):
                fns[name]()
            _sync()
            samples[name].append((time.perf_counter() - start) / iters)
    return samples

"""Training speed through the whole mmengine Runner, as ``tools/train.py`` builds it.

The ``'runner'`` loop of :mod:`drn_mm.benchmark.training` times ``model.train_step`` alone; this
one (``loop='train_py'``) times what a user gets from ``python tools/train.py CONFIG``: the
mmengine Runner, its default and custom hooks (iteration timer, logger,
parameter scheduler, sampler seed, visualization, ...), its train loop, a real ``DataLoader``
with the config's sampler, workers and collate function, the data preprocessor, and the optim
wrapper. Only two things differ from a training run:

- the dataset is :class:`~drn_mm.datasets.InMemorySegDataset` (a classifier:
  :class:`~drn_mm.datasets.InMemoryClsDataset`), already decoded and cropped samples held in
  memory, so the figure measures the training loop and not JPEG decoding or augmentation (which
  scale with the CPU cores, not the model);
- nothing is written but the Runner's log: no checkpoints, no validation (``val_interval`` beyond
  the last iteration).

The mode sets what ``tools/train.py`` would: the precision picks the optim wrapper (as ``--amp``),
``cl`` adds :class:`~drn_mm.engine.ChannelsLastHook` to ``custom_hooks`` and ``compile`` sets the
config's ``compile`` (mmengine compiles ``train_step``).

Timing: a lowest-priority hook marks the end of iterations ``warmup``, ``warmup + iters``, ...,
with ``torch.cuda.synchronize()`` at each mark; per-iteration time is a window's duration over its
``iters`` iterations. The first iteration (worker start-up, compilation, cuDNN autotuning) is
reported alone as ``first_call_s``. ``data_ms`` is the median of mmengine's ``data_time`` (the
wait for the next batch) over the timed iterations.
"""
import copy
import os.path as osp
import tempfile
import time
from statistics import median
from typing import Dict, List

import torch
from mmengine.hooks import Hook

from ..apis import build_runner, config_task, random_init_model_cfg
from .settings import optim_wrapper_cfg
from .timing import halve_batch_until_it_fits, release, summarize

__all__ = ['build_train_py_runner', 'measure_train_py']


class _WindowTimer(Hook):
    """Marks the end of iteration ``warmup + k * iters`` (k = 0..repeats), synchronized."""
    priority = 'LOWEST'

    def __init__(self, device: torch.device, warmup: int, iters: int):
        self.device, self.warmup, self.iters = device, warmup, iters
        self.count = 0
        self.marks: List[float] = []
        self.first_call_s = None

    def _now(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def before_train(self, runner):
        self.start = self._now()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.count += 1
        if self.count == 1:
            self.first_call_s = self._now() - self.start
        if self.count >= self.warmup and (self.count - self.warmup) % self.iters == 0:
            if self.count == self.warmup and self.device.type == 'cuda':
                torch.cuda.reset_peak_memory_stats(self.device)
            self.marks.append(self._now())

    def per_iter_s(self) -> List[float]:
        return [(b - a) / self.iters for a, b in zip(self.marks, self.marks[1:])]


def build_train_py_runner(cfg, mode, batch: int, settings, work_dir: str):
    """The Runner ``tools/train.py`` would build from ``cfg`` in ``mode``, training ``batch``
    in-memory crops of ``settings.train_size`` for ``warmup + repeats * train_iters``
    iterations; returns ``(runner, timer)``."""

    cfg = copy.deepcopy(cfg)
    device = torch.device(settings.device)
    cfg.model = random_init_model_cfg(cfg.model, settings.train_size)
    total = settings.warmup + settings.repeats * settings.train_iters
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.load_from, cfg.resume = None, False
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=settings.seed)
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), cudnn_benchmark=settings.cudnn_benchmark)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total, val_interval=total + 1)
    for split in ('val', 'test'):
        for key in (f'{split}_dataloader', f'{split}_cfg', f'{split}_evaluator'):
            cfg[key] = None
    cfg.default_hooks = dict(cfg.get('default_hooks', {}), checkpoint=None)
    if cfg.get('visualizer') is not None:  # a global instance per name: a fresh one per runner
        cfg.visualizer = dict(cfg.visualizer, name=f'drn_bench_{osp.basename(work_dir)}')
    task = config_task(cfg)
    num_classes = (cfg.model.decode_head if task == 'seg' else cfg.model.head).num_classes
    cfg.log_processor = dict(cfg.get('log_processor', {}), by_epoch=False)  # iteration-based
    loader = dict(cfg.train_dataloader, batch_size=batch)
    loader['dataset'] = dict(type=f'InMemory{task.capitalize()}Dataset',
                             size=tuple(settings.train_size), num_classes=num_classes,
                             num_distinct=max(2, batch), seed=settings.seed)
    if settings.train_workers is not None:
        loader['num_workers'] = settings.train_workers
        if settings.train_workers == 0:
            loader['persistent_workers'] = False
    cfg.train_dataloader = loader
    cfg.optim_wrapper = optim_wrapper_cfg(cfg, mode, device)
    if mode.channels_last:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [dict(type='ChannelsLastHook')]
    if mode.compile:
        cfg.compile = dict(backend=settings.compile_backend, mode=settings.compile_mode,
                           dynamic=False)
    runner = build_runner(cfg)
    timer = _WindowTimer(device, settings.warmup, settings.train_iters)
    runner.register_hook(timer)
    return runner, timer


def _data_ms(runner, timed: int) -> float:
    values = runner.message_hub.get_scalar('train/data_time').data[0]
    values = list(values[-timed:]) if timed else list(values)
    return 1e3 * median(values) if values else None


def measure_train_py(cfg, mode, device: torch.device, settings) -> Dict[str, object]:
    """Images per second through the Runner of ``tools/train.py`` (see the module docstring);
    halves the batch while it does not fit in GPU memory."""
    if device.type == 'cpu' and torch.cuda.is_available():
        return dict(
            status='skipped', reason='the Runner trains on the GPU when there is one: '
            'time the train_py loop with --device cuda')

    def attempt(batch):
        with tempfile.TemporaryDirectory(prefix='drn_bench_') as work_dir:
            runner, timer = build_train_py_runner(cfg, mode, batch, settings, work_dir)
            runner.train()
            peak = (
                torch.cuda.max_memory_allocated(device) / 2**20 if device.type == 'cuda' else None)
            return timer, peak, _data_ms(runner, settings.repeats * settings.train_iters)

    batch, (timer, peak, data_ms) = halve_batch_until_it_fits(settings.train_batch, attempt,
                                                              lambda: release(device, mode.compile))
    samples = timer.per_iter_s()
    if len(samples) != settings.repeats:
        raise RuntimeError(f'the Runner ran {timer.count} iterations; expected '
                           f'{settings.warmup + settings.repeats * settings.train_iters}')
    ms = summarize(samples)
    return dict(status='ok', batch=batch, step_ms=ms, first_call_s=timer.first_call_s,
                peak_mem_mb=peak, data_ms=data_ms, throughput_ips=batch / (ms['median'] / 1e3))

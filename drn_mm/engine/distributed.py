"""Distributed training without GPUs: process group, DDP, SyncBN and logged losses on CPUs.

mmengine's launchers assume CUDA (``torch.cuda.set_device``), its default DDP wrapper passes
``device_ids`` (GPU-only) and PyTorch's ``SyncBatchNorm`` refuses CPU tensors. drn_mm's tools
(:func:`~drn_mm.apis.runner.build_runner`) use the pieces below when launched distributed on a
machine without CUDA, so the same configs run on mmengine's own Runner under ``torchrun`` with the
gloo backend (CI, CPU clusters):

- :func:`init_cpu_process_group`: the process group from torchrun's (``--launcher pytorch``) or
  Slurm's (``--launcher slurm``) environment, backend gloo (``nccl`` needs GPUs); mmengine's Runner
  finds it initialized and uses it.
- :class:`CPUDistributedDataParallel`: a registered model wrapper (``model_wrapper_cfg``) that
  wraps a CPU model in DDP without ``device_ids``, with :class:`CPUSyncBatchNorm` for SyncBN
  (batch statistics all-reduced over the ranks: 2 processes x batch b normalize exactly as
  1 process x batch 2b, up to float rounding).
- :class:`AverageLossOverRanksHook`: the logged losses are means over all ranks, not rank 0's
  share of the batch, so a log reads the same whatever the number of processes.
"""
import datetime
import logging
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import HOOKS, MODEL_WRAPPERS
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = [
    'init_cpu_process_group', 'finish_distributed', 'CPUSyncBatchNorm',
    'convert_sync_batchnorm_for_cpu', 'AverageLossOverRanksHook', 'CPUDistributedDataParallel',
    'use_cpu_distributed'
]


def _slurm_environment(port: Optional[int]) -> None:
    """Set torch.distributed's env:// variables from Slurm's (one task per process)."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        first = subprocess.check_output(['scontrol', 'show', 'hostnames', nodes], text=True)
        os.environ['MASTER_ADDR'] = first.split()[0]
    os.environ.setdefault('MASTER_PORT', str(port or 29500))


def init_cpu_process_group(launcher: str, backend: str = 'gloo', timeout=None,
                           port: Optional[int] = None, **kwargs) -> None:
    """Initialize torch.distributed for CPU processes.

    Args:
        launcher: 'pytorch' (torchrun / ``python -m torch.distributed.run``) or 'slurm' (srun).
        backend: 'gloo' ('nccl' is replaced by 'gloo' with a warning: it needs GPUs).
        timeout: seconds (int) or ``datetime.timedelta``, as in mmengine's ``dist_cfg``.
        port: master port for Slurm when ``MASTER_PORT`` is not set.
        **kwargs: passed to ``torch.distributed.init_process_group``.
    """
    if launcher == 'slurm':
        _slurm_environment(port)
    elif launcher != 'pytorch':
        raise ValueError(f'launcher={launcher!r}: distributed training without CUDA supports '
                         "'pytorch' (torchrun) and 'slurm'")
    if backend != 'gloo':
        print_log(
            f'env_cfg.dist_cfg.backend={backend!r} needs GPUs; no CUDA device here, '
            'using gloo', logger='current', level=logging.WARNING)
        backend = 'gloo'
    if isinstance(timeout, (int, float)):
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    elif timeout is not None:
        kwargs['timeout'] = timeout
    dist.init_process_group(backend=backend, rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']), **kwargs)


def finish_distributed() -> None:
    """End a distributed run cleanly: wait for every rank, then destroy the process group.

    A process that exits with its gloo process group alive can abort in its static destructors
    ("terminate called without an active exception", SIGABRT; seen in about 1 of 6 two-rank CPU
    runs of tools/dist_test.sh): tools/train.py and tools/test.py call this last. A no-op outside
    a distributed run.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class CPUSyncBatchNorm(_BatchNorm):
    """Batch normalization whose batch statistics are synchronized over the ranks, on CPUs.

    PyTorch's ``nn.SyncBatchNorm`` only runs on GPUs (and DDP refuses it in a CPU model). Here,
    in training under torch.distributed, the per-channel mean and (biased) variance are taken over
    the samples of every rank: two all-reduces (sum, then sum of squared deviations) through
    ``torch.distributed.nn.functional.all_reduce``, whose backward all-reduces the gradients, so
    the gradients are those of one process holding the whole batch. Running statistics are
    updated as ``nn.BatchNorm2d`` updates them (momentum, unbiased variance over the global
    count). In eval mode or in a single process it is plain batch normalization.

    Args:
        num_features, eps, momentum, affine, track_running_stats: as ``nn.SyncBatchNorm``.
        process_group: the ranks to synchronize over (default: all).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        self.process_group = process_group

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f'expected at least 2D input (got {x.dim()}D input)')

    def _synced(self, x: torch.Tensor) -> bool:
        if not (self.training and x.device.type == 'cpu' and dist.is_available()
                and dist.is_initialized()):
            return False
        return dist.get_world_size(self.process_group or dist.group.WORLD) > 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._synced(x):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce
        self._check_input_dim(x)
        group = self.process_group or dist.group.WORLD
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        local_count = torch.tensor([x.numel() // x.size(1)], dtype=x.dtype)
        sums = all_reduce(torch.cat([x.sum(dims), local_count]), group=group)
        count = sums[-1]
        mean = sums[:-1] / count
        centered = x - mean.view(shape)
        var = all_reduce((centered * centered).sum(dims), group=group) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = (1.0 / float(self.num_batches_tracked)
                          if self.momentum is None else self.momentum)
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
                self.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)
        out = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_sync_batchnorm_for_cpu(module: nn.Module) -> nn.Module:
    """Replace every ``nn.SyncBatchNorm`` in ``module`` by :class:`CPUSyncBatchNorm` (the same
    parameter and buffer objects); returns the converted module."""
    if isinstance(module, nn.SyncBatchNorm):
        converted = CPUSyncBatchNorm(module.num_features, module.eps, module.momentum,
                                     module.affine, module.track_running_stats,
                                     module.process_group)
        if module.affine:
            converted.weight, converted.bias = module.weight, module.bias
        if module.track_running_stats:
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
        converted.train(module.training)
        return converted
    for name, child in module.named_children():
        new = convert_sync_batchnorm_for_cpu(child)
        if new is not child:
            setattr(module, name, new)
    return module


@HOOKS.register_module()
class AverageLossOverRanksHook(Hook):
    """Log the mean of each loss (and other logged value) over all ranks.

    mmengine logs rank 0's values, i.e. the loss of its share of the global batch. This hook
    all-reduces the train step's outputs before :class:`~mmengine.hooks.RuntimeInfoHook` records
    them, so the log (and ``vis_data/scalars.json``) shows the loss of the whole global batch:
    with equal per-rank batches and a mean-reduced loss, what one process with the whole batch
    would log. drn_mm's runtime configs list it in ``custom_hooks``; outside a distributed run it
    does nothing.
    """

    priority = 'HIGHEST'  # before RuntimeInfoHook (VERY_HIGH) reads the outputs

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not outputs or not (dist.is_available() and dist.is_initialized()):
            return
        world_size = dist.get_world_size()
        if world_size == 1:
            return
        keys = [k for k, v in outputs.items() if isinstance(v, torch.Tensor) and v.numel() == 1]
        if not keys:
            return
        values = torch.stack([outputs[k].detach().reshape(()).double() for k in keys])
        if dist.get_backend() == 'nccl':
            values = values.cuda()
        dist.all_reduce(values)
        values = (values / world_size).cpu()
        for key, value in zip(keys, values):
            outputs[key] = value


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` for a model on CPUs: no ``device_ids`` (which
    mmengine's Runner passes to every DDP wrapper), SyncBN layers replaced by
    :class:`CPUSyncBatchNorm` (same parameters and buffers), and, with ``model_dtype``, the model
    converted to that dtype before DDP sees it (float64 runs for exact comparisons; see
    :mod:`drn_mm.engine.model_dtype`). A model on a GPU is wrapped as mmengine wraps it."""

    def __init__(self, module: nn.Module, device_ids=None, model_dtype: Optional[str] = None,
                 **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            module = convert_sync_batchnorm_for_cpu(module)
            device_ids = None
        if model_dtype is not None:
            from .model_dtype import set_model_dtype
            set_model_dtype(module, model_dtype)
        kwargs.setdefault('broadcast_buffers', False)
        super().__init__(module=module, device_ids=device_ids, **kwargs)


def use_cpu_distributed(cfg) -> bool:
    """For a config launched distributed (``cfg.launcher`` not 'none') on a machine without CUDA:
    start the gloo process group (mmengine's launcher would call ``torch.cuda.set_device``) and
    wrap the model with :class:`CPUDistributedDataParallel` (``model_wrapper_cfg``, its options
    kept). Returns whether it did; anything else is left to mmengine."""
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if not (dist.is_available() and dist.is_initialized()):
        init_cpu_process_group(launcher, **dict((cfg.get('env_cfg') or {}).get('dist_cfg') or {}))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper['type'] = 'CPUDistributedDataParallel'
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return True

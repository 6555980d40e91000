"""Training measurements: one step through mmengine's ``train_step`` or a bare PyTorch loop.

- ``loop='runner'``: ``model.train_step(data, optim_wrapper)``, the step tools/train.py's Runner
  runs (data preprocessor, forward, losses, backward, optimizer step through mmengine's
  OptimWrapper / AmpOptimWrapper built from the config's ``optim_wrapper``), on a
  dataloader-style batch already on the device;
- ``loop='bare'``: the same model and batch in a plain PyTorch loop: forward of the backbone and
  every head (decode and auxiliary heads; a classifier's head), cross-entropy, backward,
  ``optimizer.step()`` (the config's optimizer, no param-wise options), ``zero_grad``
  (GradScaler only for fp16);
- ``loop='train_py'``: the whole Runner of ``tools/train.py``
  (:mod:`drn_mm.benchmark.runner_loop`).
"""
import copy
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..apis import TASKS, model_task, num_classes
from ..datasets.synthetic import train_batch
from ..engine.hooks import to_channels_last
from ..models.checks import model_heads
from .runner_loop import measure_train_py
from .settings import BenchmarkSettings, Mode, optim_wrapper_cfg
from .timing import compile_fn, halve_batch_until_it_fits, release, time_calls

__all__ = ['measure_training']


def _loss_weight(head) -> float:
    loss = getattr(head, 'loss_decode', None) or head.loss_module
    if isinstance(loss, nn.ModuleList):
        loss = loss[0]
    return float(getattr(loss, 'loss_weight', 1.0))


def _runner_step(model, mode, batch, device, cfg, settings):
    """``model.train_step(data, optim_wrapper)`` as tools/train.py's Runner runs it."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    task = model_task(model)
    with DefaultScope.overwrite_default_scope(TASKS[task]):
        optim_wrapper = build_optim_wrapper(model, optim_wrapper_cfg(cfg, mode, device))
    data = train_batch(batch, settings.train_size, num_classes(model), device, settings.seed,
                       task=task)
    if mode.compile:  # as mmengine's Runner._maybecompile_fn('train_step')
        model.train_step = compile_fn(model.train_step, settings)
    return lambda: model.train_step(data, optim_wrapper)


def _bare_step(model, mode, batch, device, cfg, settings):
    """Forward of backbone and heads, cross-entropy, backward, optimizer step: plain PyTorch."""
    from mmengine.registry import OPTIMIZERS
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = OPTIMIZERS.build(dict(cfg.optim_wrapper.optimizer, params=params))
    task = model_task(model)
    data = train_batch(batch, settings.train_size, num_classes(model), device, settings.seed,
                       task=task)
    with torch.no_grad():
        data = model.data_preprocessor(data, True)
    x = data['inputs']  # channels_last with cl: the preprocessor converts (to_channels_last)
    samples = data['data_samples']
    if task == 'seg':
        labels = torch.cat([s.gt_sem_seg.data for s in samples]).long()
    else:
        labels = torch.cat([s.gt_label for s in samples]).long()
    heads = [(head, _loss_weight(head)) for _, head in model_heads(model)]

    def forward_loss(x, labels):
        feats = model.extract_feat(x)
        loss = 0
        for head, weight in heads:
            logits = head(feats)
            if task == 'seg' and logits.shape[-2:] != labels.shape[-2:]:
                logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear',
                                       align_corners=head.align_corners)
            loss = loss + weight * F.cross_entropy(logits, labels, ignore_index=getattr(
                head, 'ignore_index', -100))
        return loss

    if mode.compile:
        forward_loss = compile_fn(forward_loss, settings)
    dtype = mode.dtype(device.type)
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None

    def step():
        with mode.autocast(device.type):
            loss = forward_loss(x, labels)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step


_STEP_BUILDERS = {'runner': _runner_step, 'bare': _bare_step}


def measure_training(base: nn.Module, cfg, mode: Mode, loop: str, device: torch.device,
                     settings: BenchmarkSettings) -> Dict[str, object]:
    """Training throughput of a copy of ``base`` in ``mode`` through ``loop`` ('runner' or
    'bare'; 'train_py' builds its own model from ``cfg``, see
    :func:`~drn_mm.benchmark.runner_loop.measure_train_py`); halves the batch while it does not fit
    in GPU memory."""
    if loop != 'bare' and mode.dtype(device.type) == torch.float16 and device.type != 'cuda':
        return dict(status='skipped',
                    reason="fp16 training uses mmengine's AmpOptimWrapper, which needs a GPU")
    if loop == 'train_py':
        return measure_train_py(cfg, mode, device, settings)

    def attempt(batch):
        model = copy.deepcopy(base).to(device).train()
        if mode.channels_last:
            to_channels_last(model)
        step = _STEP_BUILDERS[loop](model, mode, batch, device, cfg, settings)
        return time_calls(step, device, settings.warmup, settings.repeats, settings.train_iters)

    batch, timing = halve_batch_until_it_fits(settings.train_batch, attempt,
                                              lambda: release(device, mode.compile))
    return dict(status='ok', batch=batch, step_ms=timing['ms'], first_call_s=timing['first_call_s'],
                peak_mem_mb=timing['peak_mem_mb'],
                throughput_ips=batch / (timing['ms']['median'] / 1e3))

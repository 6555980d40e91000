"""Parameters and FLOPs, counted with forward hooks.

FLOPs = 2 x multiply-accumulates (MACs) of every convolution and matrix product that runs
(biases, norms, activations, additions and interpolation are not counted), in one forward of the
inference graph (``mode='tensor'``: backbone, neck, decode head; no auxiliary head).

- Conv2d: ``MACs = output elements x (in_channels / groups) x kh x kw``
- ConvTranspose2d: ``MACs = input elements x (out_channels / groups) x kh x kw``
- Linear: ``MACs = output elements x in_features``

The total is what PyTorch's ``FlopCounterMode`` sees run (the same formulas, over aten ops), so
convolutions called functionally count too: DRNSegHead's x8 upsampling runs as a depthwise 3x3
conv over ``classes x 64`` phase channels plus a pixel shuffle, never as its ``ConvTranspose2d``.
Module hooks split the total by layer type; what ran outside those modules is ``functional``.
"""
import copy
import math
from typing import Dict

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ['count_macs', 'count_flops', 'count_params', 'model_flops']


def _conv_macs(module: nn.Conv2d, inputs, output) -> int:
    return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)


def _deconv_macs(module: nn.ConvTranspose2d, inputs, output) -> int:
    return inputs[0].numel() * (module.out_channels // module.groups) * math.prod(
        module.kernel_size)


def _linear_macs(module: nn.Linear, inputs, output) -> int:
    return output.numel() * module.in_features


# ConvTranspose2d first: it is no Conv2d, but keep the most specific types first anyway.
_COUNTERS = ((nn.ConvTranspose2d, _deconv_macs), (nn.Conv2d, _conv_macs), (nn.Linear, _linear_macs))


def count_macs(model: nn.Module, run) -> Dict[str, int]:
    """MACs per layer type of ``run()`` (a call that runs ``model`` forward once).

    Returns:
        dict: ``{'Conv2d': ..., 'ConvTranspose2d': ..., 'Linear': ..., 'functional': ...,
        'total': ...}``; ``functional``: convolutions and matrix products run outside those
        modules (``F.conv2d`` in a head's forward, ...).
    """
    totals = {cls.__name__: 0 for cls, _ in _COUNTERS}
    handles = []

    def make_hook(name, fn):

        def hook(module, inputs, output):
            totals[name] += int(fn(module, inputs, output))

        return hook

    for module in model.modules():
        for cls, fn in _COUNTERS:
            if isinstance(module, cls):
                handles.append(module.register_forward_hook(make_hook(cls.__name__, fn)))
                break
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            run()
    finally:
        for handle in handles:
            handle.remove()
    total = counter.get_total_flops() // 2
    totals['functional'] = total - sum(totals.values())
    totals['total'] = total
    return totals


def count_flops(model: nn.Module, run) -> int:
    """FLOPs (2 x MACs) of ``run()``."""
    return 2 * count_macs(model, run)['total']


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def model_flops(model: nn.Module, size, batch: int = 1) -> Dict[str, object]:
    """FLOPs of a segmentor's or classifier's inference graph (``mode='tensor'``) at ``size``
    (H, W).

    Shapes are all it needs, so it runs on a copy of the model on the ``meta`` device (no compute,
    no memory); if some op has no meta kernel it runs on the model's own device instead.

    Returns:
        dict: ``gflops``, ``gmacs``, ``macs_by_type``, ``size``, ``batch``, ``counted_on``.
    """
    was_training = model.training
    try:
        meta = copy.deepcopy(model).to('meta').eval()
        x = torch.empty(batch, 3, *size, device='meta')
        macs = count_macs(meta, lambda: meta(x, mode='tensor'))
        counted_on = 'meta'
    except Exception:  # an op without a meta kernel: count on the real device
        device = next(model.parameters()).device
        x = torch.zeros(batch, 3, *size, device=device)
        model.eval()
        macs = count_macs(model, lambda: model(x, mode='tensor'))
        model.train(was_training)
        counted_on = str(device)
    return dict(gflops=2 * macs['total'] / 1e9, gmacs=macs['total'] / 1e9, macs_by_type={
        k: v
        for k, v in macs.items() if k != 'total'
    }, size=list(size), batch=batch, counted_on=counted_on)

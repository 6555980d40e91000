"""ChannelsLastHook: run a model in channels_last (NHWC) memory format end to end.

Convolutions on tensor cores (and oneDNN on CPUs) run natively in NHWC; with NCHW tensors every
conv pays for layout transposes. In a config::

    custom_hooks = [dict(type='ChannelsLastHook')]

Before the run (train, val or test) the hook converts the model's parameters and buffers with
``model.to(memory_format=torch.channels_last)`` and makes the data preprocessor return its
batched ``inputs`` in channels_last, so every conv sees NHWC input from the first layer on.
Values are unchanged: only the memory layout differs.

With a distributed launch the Runner wraps the model in DDP before any hook runs; DDP then copies
gradients between the layouts (a warning from PyTorch, correct results, a little slower).
"""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

__all__ = ['ChannelsLastHook', 'to_channels_last']


def _inputs_to_channels_last(module, args, output):
    inputs = output.get('inputs') if isinstance(output, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        output['inputs'] = inputs.contiguous(memory_format=torch.channels_last)
    return output


def to_channels_last(model: nn.Module) -> nn.Module:
    """Convert ``model`` to channels_last and make its ``data_preprocessor`` (if any) batch inputs
    in channels_last too. Idempotent; returns ``model``."""
    model.to(memory_format=torch.channels_last)
    preprocessor = getattr(model, 'data_preprocessor', None)
    if isinstance(preprocessor,
                  nn.Module) and not getattr(preprocessor, '_drn_channels_last', False):
        preprocessor.register_forward_hook(_inputs_to_channels_last)
        preprocessor._drn_channels_last = True
    return model


# mmengine's root registry: mmseg's HOOKS (and mmpretrain's) find it from any default scope.
@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model and its batched inputs to channels_last before the run.

    Runs first (priority VERY_HIGH), so hooks that copy the model (EMA) copy the NHWC model.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        to_channels_last(model)

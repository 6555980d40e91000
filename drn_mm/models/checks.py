"""Build-time checks of a whole model: do the heads read features the backbone really gives?

A decode head whose ``in_channels`` does not match the DRN feature it reads builds fine and fails
at the first forward pass, after the data sets are built and the workers started (on a cluster:
after the job waited in the queue). :func:`check_head_channels` compares them right after the
model is built (:class:`drn_mm.engine.DRNCheckpointHook` calls it before the run) and names the
option, the value and
what would fit.
"""
from typing import List, Sequence

import torch.nn as nn

from .backbones.drn import DRN
from .necks.degridding_neck import DegriddingNeck

__all__ = ['check_head_channels', 'model_heads']


def _feature_levels(backbone: DRN) -> List[int]:
    """Level indices (0-based) of the backbone's outputs, in the order forward() returns them."""
    return [i for i in range(backbone.num_levels) if i in backbone.out_indices]


def _describe_features(backbone: DRN, levels: Sequence[int], channels: Sequence[int]) -> str:
    return ', '.join(f'[{k}] level {level + 1}: {c}'
                     for k, (level, c) in enumerate(zip(levels, channels)))


def model_heads(model: nn.Module):
    """``(name, head)`` of a segmentor's decode and auxiliary heads, or a classifier's head."""
    for name in ('decode_head', 'auxiliary_head', 'head'):
        head = getattr(model, name, None)
        if head is None:
            continue
        if isinstance(head, nn.ModuleList):
            for i, h in enumerate(head):
                yield f'model.{name}[{i}]', h
        else:
            yield f'model.{name}', head


def check_head_channels(model: nn.Module) -> None:
    """Raise ``ValueError`` if a decode/auxiliary head (or a DegriddingNeck) of ``model`` expects
    other channels than the DRN backbone gives at its ``in_index``.

    Models without a :class:`~drn_mm.DRN` backbone, or with a neck other than
    :class:`~drn_mm.DegriddingNeck`, are not checked.
    """
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, DRN):
        return
    levels = _feature_levels(backbone)
    channels = [backbone.level_channels[i] for i in levels]
    what = f"DRN(arch={backbone.arch!r}, out_indices={backbone.out_indices})"
    source = 'the backbone'
    neck = getattr(model, 'neck', None)
    if neck is not None:
        if not isinstance(neck, DegriddingNeck):
            return
        index = neck.in_index
        if not -len(channels) <= index < len(channels):
            raise ValueError(f'model.neck.in_index={index} is out of range: {what} gives '
                             f'{len(channels)} feature(s) '
                             f'({_describe_features(backbone, levels, channels)})')
        if neck.in_channels != channels[index]:
            raise ValueError(
                f'model.neck.in_channels={neck.in_channels} but {what} feature [{index}] '
                f'(level {levels[index] + 1}) has {channels[index]} channels; valid: '
                f'model.neck.in_channels={channels[index]}')
        channels[index] = neck.out_channels
        source = 'the DegriddingNeck'
    features = _describe_features(backbone, levels, channels)
    for name, head in model_heads(model):
        if not hasattr(head, 'in_index') or not hasattr(head, 'in_channels'):
            continue
        indices = head.in_index if isinstance(head.in_index, (list, tuple)) else [head.in_index]
        for index in indices:
            if not -len(channels) <= index < len(channels):
                raise ValueError(f'{name}.in_index={head.in_index} is out of range: {what} gives '
                                 f'{len(channels)} feature(s) ({features}); valid: '
                                 f'0..{len(channels) - 1} or -{len(channels)}..-1')
        got = [channels[i] for i in indices]
        transform = getattr(head, 'input_transform', None)
        option = f'{name}.in_channels={head.in_channels}'
        if transform == 'resize_concat':  # mmseg keeps the sum of the list
            option = f'{name}.in_channels (summed) = {head.in_channels}'
            fits, expected, valid = head.in_channels == sum(got), sum(got), got
        elif transform == 'multiple_select':
            fits, expected, valid = list(head.in_channels) == got, got, got
        else:
            fits, expected, valid = head.in_channels == got[0], got[0], got[0]
        if not fits:
            levels_read = ', '.join(f'level {levels[i] + 1}' for i in indices)
            raise ValueError(
                f'{option} but {what} ({source}) gives {expected} channels at '
                f'in_index={head.in_index} ({levels_read}); valid: {name}.in_channels={valid}. '
                f'Features: {features}')

"""Building blocks of Dilated Residual Networks.

A DRN is a stem followed by *levels*. A level is either a stack of residual blocks
(:class:`BasicBlock` / :class:`Bottleneck`, made by :func:`make_block_level`) or a stack of plain
conv-norm-ReLU layers (:func:`make_conv_level`, DRN-D's levels 1, 2, 7 and 8). The degridding
levels 7-8 are built by :func:`make_degridding_levels`, used both by :class:`~drn_mm.DRN` and by
:class:`~drn_mm.DegriddingNeck`.

Module names inside a block follow the authors' reference (``conv1``, ``bn1``, ...,
``downsample.0``, ``downsample.1``), and a conv level is an ``nn.Sequential`` with the conv at
index 0, 3, ... and the norm at 1, 4, ..., like the reference's DRN-D, so checkpoints map 1:1.
"""
from typing import List, Optional, Sequence, Tuple, Type, Union

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule

Dilation = Union[int, Tuple[int, int]]


def _pair(dilation: Dilation) -> Tuple[int, int]:
    if isinstance(dilation, int):
        return dilation, dilation
    return tuple(dilation)


class _ResidualBlock(BaseModule):
    """What both blocks share: the optional shortcut (``downsample``), ``residual`` and the final
    ReLU. Subclasses build their layers in ``_build_layers`` and compute them in ``_body``."""
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: Dilation = 1,
                 downsample: Optional[nn.Module] = None, residual: bool = True,
                 conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN'), init_cfg=None):
        super().__init__(init_cfg)
        self._build_layers(inplanes, planes, stride, _pair(dilation), conv_cfg, norm_cfg)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.residual = residual

    def _build_layers(self, inplanes, planes, stride, dilation, conv_cfg, norm_cfg):
        raise NotImplementedError

    def _body(self, x):
        raise NotImplementedError

    def forward(self, x):
        out = self._body(x)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class BasicBlock(_ResidualBlock):
    """conv3x3(stride, d1)-norm-ReLU-conv3x3(d2)-norm, (+ shortcut), ReLU.

    Args:
        inplanes (int): Input channels.
        planes (int): Output channels.
        stride (int): Stride of the first 3x3 conv.
        dilation (int | tuple[int, int]): Dilation (= padding) of the two 3x3 convs.
        downsample (nn.Module, optional): Shortcut projection.
        residual (bool): Add the shortcut. Without it the block is two plain conv layers
            (DRN-C levels 7-8) and ``downsample``, if present, is kept for checkpoint
            compatibility but never computed.
        conv_cfg, norm_cfg: mmcv layer configs.
    """
    expansion = 1

    def _build_layers(self, inplanes, planes, stride, dilation, conv_cfg, norm_cfg):
        d1, d2 = dilation
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 3, stride=stride, padding=d1,
                                      dilation=d1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=d2, dilation=d2,
                                      bias=False)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]

    def _body(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(_ResidualBlock):
    """conv1x1-norm-ReLU-conv3x3(stride, dilation)-norm-ReLU-conv1x1(x4)-norm, + shortcut, ReLU.

    The stride sits on the 3x3 conv and the first entry of ``dilation`` is unused (the 3x3 conv
    takes the second), as in the reference. Arguments as in :class:`BasicBlock`.
    """
    expansion = 4

    def _build_layers(self, inplanes, planes, stride, dilation, conv_cfg, norm_cfg):
        d = dilation[1]
        out = planes * self.expansion
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, stride=stride, padding=d,
                                      dilation=d, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]
        self.conv3 = build_conv_layer(conv_cfg, planes, out, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out)[1]

    def _body(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


BLOCKS = {'BasicBlock': BasicBlock, 'Bottleneck': Bottleneck}


def get_block(block: Union[str, Type[nn.Module]]) -> Type[nn.Module]:
    if isinstance(block, str):
        if block not in BLOCKS:
            raise ValueError(f'block={block!r} is not a DRN block; valid: {sorted(BLOCKS)}')
        return BLOCKS[block]
    return block


def make_block_level(
    block: Union[str,
                 Type[nn.Module]], inplanes: int, planes: int, num_blocks: int, stride: int = 1,
    dilation: int = 1, first_dilation: Optional[Dilation] = None, residual: bool = True,
    conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN')) -> Tuple[nn.Sequential, int]:
    """A level of ``num_blocks`` residual blocks; returns ``(level, out_channels)``.

    The first block carries the stride and, when stride != 1 or the width changes, a 1x1
    projection shortcut (conv with the stride, no bias, then norm). ``first_dilation`` is the
    first block's dilation (default ``dilation``); the others use ``dilation``.
    """
    block = get_block(block)
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or inplanes != out_channels:
        downsample = nn.Sequential(
            build_conv_layer(conv_cfg, inplanes, out_channels, 1, stride=stride, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
    blocks = [
        block(inplanes, planes, stride, dilation if first_dilation is None else first_dilation,
              downsample, residual, conv_cfg, norm_cfg)
    ]
    blocks += [
        block(out_channels, planes, 1, dilation, None, residual, conv_cfg, norm_cfg)
        for _ in range(1, num_blocks)
    ]
    return nn.Sequential(*blocks), out_channels


def make_conv_level(
    inplanes: int, channels: int, num_convs: int, stride: int = 1, dilation: int = 1,
    conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN')) -> Tuple[nn.Sequential, int]:
    """``num_convs`` x (conv3x3-norm-ReLU), stride on the first; returns ``(level, channels)``."""
    layers: List[nn.Module] = []
    for i in range(num_convs):
        layers += [
            build_conv_layer(conv_cfg, inplanes if i == 0 else channels, channels, 3,
                             stride=stride if i == 0 else 1, padding=dilation, dilation=dilation,
                             bias=False),
            build_norm_layer(norm_cfg, channels)[1],
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers), channels


DEGRID_STYLES = ('block', 'conv')


def make_degridding_levels(
    in_channels: int, channels: Sequence[int] = (512, 512), num_layers: Sequence[int] = (1, 1),
    dilations: Sequence[int] = (2, 1), style: str = 'block', residual: bool = False,
    conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN')
) -> List[Tuple[nn.Sequential, int]]:
    """The degridding levels (DRN levels 7 and 8): decreasing dilation after a dilated trunk.

    Args:
        in_channels (int): Channels of the trunk's output.
        channels (Sequence[int]): Width of each level.
        num_layers (Sequence[int]): Blocks (style 'block') or conv layers (style 'conv') per level.
        dilations (Sequence[int]): Dilation of each level; (2, 1) in the paper.
        style (str): 'block' for BasicBlocks (DRN-B/C), 'conv' for conv-norm-ReLU (DRN-D).
        residual (bool): Residual connections in 'block' style (True: DRN-B, False: DRN-C).

    Returns:
        list[tuple[nn.Sequential, int]]: ``(level, out_channels)`` per level.
    """
    if style not in DEGRID_STYLES:
        raise ValueError(f'style={style!r} is not a degridding style; valid: {DEGRID_STYLES}')
    if not len(channels) == len(num_layers) == len(dilations):
        raise ValueError(
            'channels, num_layers and dilations need one entry per degridding level, got '
            f'channels={tuple(channels)}, num_layers={tuple(num_layers)}, '
            f'dilations={tuple(dilations)}')
    if style == 'conv' and residual:
        raise ValueError("residual=True needs style='block': plain conv levels have no shortcut")
    levels = []
    for width, n, d in zip(channels, num_layers, dilations):
        if style == 'block':
            level, out = make_block_level(BasicBlock, in_channels, width, n, dilation=d,
                                          residual=residual, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        else:
            level, out = make_conv_level(in_channels, width, n, dilation=d, conv_cfg=conv_cfg,
                                         norm_cfg=norm_cfg)
        levels.append((level, out))
        in_channels = out
    return levels


def run_level(level: nn.Module, x, with_cp: bool = False):
    """Run one level, with gradient checkpointing when asked for and useful (training)."""
    if with_cp and x.requires_grad:
        return cp.checkpoint(level, x, use_reentrant=False)
    return level(x)

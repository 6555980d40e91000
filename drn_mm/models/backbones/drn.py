"""Dilated Residual Networks (Yu, Koltun, Funkhouser, CVPR 2017) as one backbone class.

Every variant is a row of :data:`ARCH_SETTINGS`:

- DRN-A: a ResNet (7x7 stride-2 stem + max pooling) whose stages 3 and 4 keep stride 1 and dilate
  by 2 and 4 (their first blocks at dilation 1, as the reference builds it). 4 levels.
- DRN-B/C/D: stride-1 7x7 stem with 16 channels, then 8 levels; levels 5 and 6 dilate by 2 and 4,
  levels 7 and 8 (dilation 2, then 1) remove the gridding artifacts. B keeps residual connections
  in levels 7-8, C drops them, D replaces levels 1, 2, 7 and 8 with conv-norm-ReLU layers.

Output stride is 8 for every variant; feature sides are ``ceil(side / stride)`` for any input size.
"""
import warnings
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import register_model
from ..layers import (BasicBlock, get_block, make_block_level, make_conv_level,
                      make_degridding_levels, run_level)
from .drn_checkpoint import adopt_backbone_keys, load_backbone_checkpoint


class DRNArch(NamedTuple):
    """A preset: its style, the block of its trunk and its depth."""
    style: str  # 'A', 'B', 'C' or 'D': a row of STYLES
    block: str  # block of the trunk (levels 3-6; all levels for DRN-A)
    layers: Tuple[int, ...]  # blocks (or conv layers) per level


ARCH_SETTINGS: Dict[str, DRNArch] = {
    'A-18': DRNArch('A', 'BasicBlock', (2, 2, 2, 2)),
    'A-34': DRNArch('A', 'BasicBlock', (3, 4, 6, 3)),
    'A-50': DRNArch('A', 'Bottleneck', (3, 4, 6, 3)),
    'A-101': DRNArch('A', 'Bottleneck', (3, 4, 23, 3)),
    'B-26': DRNArch('B', 'BasicBlock', (1, 1, 2, 2, 2, 2, 1, 1)),
    'B-42': DRNArch('B', 'BasicBlock', (1, 1, 3, 4, 6, 3, 1, 1)),
    'C-26': DRNArch('C', 'BasicBlock', (1, 1, 2, 2, 2, 2, 1, 1)),
    'C-42': DRNArch('C', 'BasicBlock', (1, 1, 3, 4, 6, 3, 1, 1)),
    'C-58': DRNArch('C', 'Bottleneck', (1, 1, 3, 4, 6, 3, 1, 1)),
    'D-22': DRNArch('D', 'BasicBlock', (1, 1, 2, 2, 2, 2, 1, 1)),
    'D-24': DRNArch('D', 'BasicBlock', (1, 1, 2, 2, 2, 2, 2, 2)),
    'D-38': DRNArch('D', 'BasicBlock', (1, 1, 3, 4, 6, 3, 1, 1)),
    'D-40': DRNArch('D', 'BasicBlock', (1, 1, 3, 4, 6, 3, 2, 2)),
    'D-54': DRNArch('D', 'Bottleneck', (1, 1, 3, 4, 6, 3, 1, 1)),
    'D-56': DRNArch('D', 'Bottleneck', (1, 1, 3, 4, 6, 3, 2, 2)),
    'D-105': DRNArch('D', 'Bottleneck', (1, 1, 3, 4, 23, 3, 1, 1)),
    'D-107': DRNArch('D', 'Bottleneck', (1, 1, 3, 4, 23, 3, 2, 2)),
}


class Level(NamedTuple):
    """Geometry of one level: stride of its first layer, dilation, dilation of its first block."""
    stride: int
    dilation: int
    first_dilation: int


class DRNStyle(NamedTuple):
    """What sets a DRN style apart: the paper's ideas as data.

    ``stem_stride`` / ``max_pool``: DRN-A keeps ResNet's stride-2 stem and max pooling; B/C/D
    replace them (no max pooling: it aliases high-frequency activations into gridding).
    ``early_levels``: levels 1-2 made of the arch's 'block', of 'basic' blocks, or of plain
    'conv' layers (DRN-D). ``degridding``: levels 7-8 (decreasing dilation after the dilated
    trunk) of 'block' or 'conv' layers, or None (DRN-A has no such levels);
    ``degridding_residual``: whether they keep residual connections (B does, C and D do not).
    ``stem_channels_entry``: the first width is the stem's alone (A) rather than the stem's and
    level 1's (B/C/D). ``geometry``: one :class:`Level` per level; dilation instead of striding
    keeps the output stride at 8.
    """
    stem_stride: int
    max_pool: bool
    early_levels: str
    degridding: Optional[str]
    degridding_residual: bool
    stem_channels_entry: bool
    channels: Tuple[int, ...]
    geometry: Tuple[Level, ...]


_BCD_CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)
_BCD_GEOMETRY = (Level(1, 1, 1), Level(2, 1, 1), Level(2, 1, 1), Level(2, 1, 1), Level(1, 2, 2),
                 Level(1, 4, 4), Level(1, 2, 2), Level(1, 1, 1))

#: One row per style.
STYLES: Dict[str, DRNStyle] = {
    'A':
    DRNStyle(stem_stride=2, max_pool=True, early_levels='block', degridding=None,
             degridding_residual=False, stem_channels_entry=True, channels=(64, 64, 128, 256, 512),
             geometry=(Level(1, 1, 1), Level(2, 1, 1), Level(1, 2, 1), Level(1, 4, 1))),
    'B':
    DRNStyle(stem_stride=1, max_pool=False, early_levels='basic', degridding='block',
             degridding_residual=True, stem_channels_entry=False, channels=_BCD_CHANNELS,
             geometry=_BCD_GEOMETRY),
    'C':
    DRNStyle(stem_stride=1, max_pool=False, early_levels='basic', degridding='block',
             degridding_residual=False, stem_channels_entry=False, channels=_BCD_CHANNELS,
             geometry=_BCD_GEOMETRY),
    'D':
    DRNStyle(stem_stride=1, max_pool=False, early_levels='conv', degridding='conv',
             degridding_residual=False, stem_channels_entry=False, channels=_BCD_CHANNELS,
             geometry=_BCD_GEOMETRY),
}


def arch_names() -> Tuple[str, ...]:
    return tuple(ARCH_SETTINGS)


@register_model()
class DRN(BaseModule):
    """Dilated Residual Network backbone (DRN-A/B/C/D, every depth).

    Args:
        arch (str): Preset, one of :data:`ARCH_SETTINGS` (e.g. 'C-26', 'D-105', 'A-50').
        in_channels (int): Input channels. Default 3.
        channels (Sequence[int], optional): Override the preset's widths: 8 level widths for
            B/C/D (levels 3-6 are x4 with Bottleneck), or stem + 4 stage planes for A.
        layers (Sequence[int], optional): Override the preset's blocks (or conv layers) per level.
            For B/C/D, levels 7 and 8 may be 0 to leave the degridding levels out (e.g. to use a
            :class:`DegriddingNeck` instead).
        out_indices (Sequence[int] | int): Levels to output, 0-based (index i is level i+1);
            negative indices count from the end. Default: the last level. Features come in level
            order whatever the order given (as mmseg's ResNet and timm): ``(7, 3)`` gives levels
            4 and 8, in that order, so a head's ``in_index`` counts levels from the shallowest.
            A level named twice is refused.
        frozen_stages (int): Freeze the stem (0) and levels 1..frozen_stages; -1 freezes nothing.
        conv_cfg (dict, optional): Conv layer config.
        norm_cfg (dict): Norm layer config (BN, SyncBN, GN, ...).
        norm_eval (bool): Keep norm layers in eval mode during training (frozen statistics).
        with_cp (bool): Gradient checkpointing per level (saves memory, costs a re-forward).
        contract_dilation (bool): DRN-A only. The dilated ResNet of PyTorch-Encoding (and mmseg's
            ``contract_dilation=True`` for Bottleneck stages): the first block of each dilated
            stage runs its first 3x3 conv at half the stage's dilation (BasicBlock: conv1 at d/2,
            conv2 at d; Bottleneck: its 3x3 at d/2), instead of the authors' DRN-A, which runs
            that whole block at dilation 1. The parameters are the same: torchvision ResNets
            load either way. Default False (the authors').
        init_cfg (dict | list[dict], optional): Initialization. ``dict(type='Pretrained',
            checkpoint=PATH)`` accepts drn_mm checkpoints, the authors' ImageNet and Cityscapes
            checkpoints and torchvision ResNets (for DRN-A) as they are; a checkpoint that does not
            fit raises :class:`~drn_mm.CheckpointMismatchError`.

    Inputs: (N, in_channels, H, W). Outputs: tuple of (N, C_i, ceil(H / s_i), ceil(W / s_i)), with
    stride s_i = 1, 2, 4, 8, 8, 8, 8, 8 for levels 1-8 of B/C/D and 4, 8, 8, 8 for A.
    """

    arch_settings = ARCH_SETTINGS  # the presets, as mmseg's ResNet.arch_settings

    def __init__(self, arch: str = 'C-26', in_channels: int = 3,
                 channels: Optional[Sequence[int]] = None, layers: Optional[Sequence[int]] = None,
                 out_indices: Union[int, Sequence[int]] = -1, frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(
                     type='BN', requires_grad=True), norm_eval: bool = False, with_cp: bool = False,
                 contract_dilation: bool = False, pretrained: Optional[str] = None, init_cfg=None):
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'DRN: arch={arch!r} is not a DRN preset; valid: {arch_names()}')
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('DRN: pass either pretrained or init_cfg, not both')
            warnings.warn('DRN: pretrained is deprecated, use '
                          'init_cfg=dict(type="Pretrained", checkpoint=...)')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu',
                     distribution='normal'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
            ]
        super().__init__(init_cfg)
        setting = ARCH_SETTINGS[arch]
        self.arch = arch
        self.style = setting.style
        traits = STYLES[self.style]
        self.traits = traits
        self.block = get_block(setting.block)
        self.layers = tuple(setting.layers if layers is None else layers)
        self.channels = tuple(traits.channels if channels is None else channels)
        if len(self.layers) != len(traits.geometry):
            raise ValueError(f'DRN-{arch}: layers={self.layers} needs {len(traits.geometry)} '
                             'entries, one per level')
        if len(self.channels) != len(traits.channels):
            raise ValueError(f'DRN-{arch}: channels={self.channels} needs '
                             f'{len(traits.channels)} entries, e.g. {traits.channels}')
        trunk_levels = len(traits.geometry) - (2 if traits.degridding else 0)
        if any(n < 1 for n in self.layers[:trunk_levels]):
            raise ValueError(f'DRN-{arch}: layers={self.layers}: levels 1-{trunk_levels} need at '
                             'least one block each (only levels 7 and 8 of B/C/D may be 0)')
        if any(n < 0 for n in self.layers):
            raise ValueError(f'DRN-{arch}: layers={self.layers} has a negative entry')
        if contract_dilation and self.style != 'A':
            raise ValueError(f'DRN-{arch}: contract_dilation is an option of DRN-A (its dilated '
                             'stages start with a dilation-1 block); B/C/D dilate whole levels')
        self.contract_dilation = contract_dilation
        self.in_channels = in_channels
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        # stem: 7x7 conv-norm-ReLU (stride 2 and max pooling only in DRN-A)
        stem_width = self.channels[0]
        stem = [
            build_conv_layer(conv_cfg, in_channels, stem_width, 7, stride=traits.stem_stride,
                             padding=3, bias=False),
            build_norm_layer(norm_cfg, stem_width)[1],
            nn.ReLU(inplace=True),
        ]
        if traits.max_pool:
            stem.append(nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem)

        # levels 1-6 (1-4 for DRN-A): the dilated trunk
        self.level_names = []
        self.level_channels = []
        self.level_strides = []
        stride = traits.stem_stride * (2 if traits.max_pool else 1)
        width = stem_width
        level_widths = self.channels[1:] if traits.stem_channels_entry else self.channels
        for i in range(trunk_levels):
            geo, n, planes = traits.geometry[i], self.layers[i], level_widths[i]
            kind = traits.early_levels if i < 2 else 'block'
            if kind == 'conv':
                level, width = make_conv_level(width, planes, n, geo.stride, geo.dilation, conv_cfg,
                                               norm_cfg)
            else:
                block = BasicBlock if kind == 'basic' else self.block
                first = geo.first_dilation
                if self.contract_dilation and geo.dilation > 1:
                    # (first 3x3, second 3x3); a Bottleneck's one 3x3 takes the second entry
                    half = geo.dilation // 2
                    first = (half, half) if block.expansion > 1 else (half, geo.dilation)
                level, width = make_block_level(block, width, planes, n, geo.stride, geo.dilation,
                                                first, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
            stride *= geo.stride
            self._add_level(i + 1, level, width, stride)
        # levels 7-8: degridding (B/C/D)
        if traits.degridding:
            self._build_degridding_levels(trunk_levels, width, stride)

        self.num_levels = len(self.level_names)
        self.out_indices = self._check_out_indices(out_indices)
        if not -1 <= frozen_stages <= self.num_levels:
            raise ValueError(f'DRN-{arch}: frozen_stages={frozen_stages} is out of range; valid: '
                             f'-1 (nothing), 0 (stem) .. {self.num_levels} (stem + every level)')
        self.frozen_stages = frozen_stages
        self._freeze_stages()
        # any loader (mmengine's load_checkpoint, torch's load_state_dict): foreign keys renamed,
        # weights that do not fit refused
        self.register_load_state_dict_pre_hook(adopt_backbone_keys)

    def _build_degridding_levels(self, first: int, width: int, stride: int):
        """Levels 7 and 8 (those with a non-zero layer count), shared with DegriddingNeck."""
        present = [i for i in range(first, len(self.layers)) if self.layers[i] > 0]
        levels = make_degridding_levels(
            width, channels=[self.channels[i]
                             for i in present], num_layers=[self.layers[i] for i in present],
            dilations=[self.traits.geometry[i].dilation for i in present],
            style=self.traits.degridding, residual=self.traits.degridding_residual,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)
        for i, (level, width) in zip(present, levels):
            self._add_level(i + 1, level, width, stride)

    def _add_level(self, number: int, level: nn.Module, width: int, stride: int):
        name = f'layer{number}'
        self.add_module(name, level)
        self.level_names.append(name)
        self.level_channels.append(width)
        self.level_strides.append(stride)

    def _check_out_indices(self, out_indices) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        checked = []
        for index in out_indices:
            if not -self.num_levels <= index < self.num_levels:
                raise ValueError(
                    f'DRN-{self.arch}: out_indices={tuple(out_indices)} has {index}, out of range '
                    f'for its {self.num_levels} levels; valid: 0..{self.num_levels - 1} or '
                    f'-{self.num_levels}..-1')
            checked.append(index % self.num_levels)
        repeated = sorted({i for i in checked if checked.count(i) > 1})
        if repeated:
            raise ValueError(
                f'DRN-{self.arch}: out_indices={tuple(out_indices)} names level index(es) '
                f'{repeated} more than once; each level is output once (features come in level '
                'order)')
        return tuple(sorted(checked))

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each output, in level order (the order of :meth:`forward`)."""
        return tuple(self.level_channels[i] for i in self.out_indices)

    @property
    def out_strides(self) -> Tuple[int, ...]:
        """Stride of each output, in level order (the order of :meth:`forward`)."""
        return tuple(self.level_strides[i] for i in self.out_indices)

    def levels(self):
        return [getattr(self, name) for name in self.level_names]

    def _freeze_stages(self):
        for module in ([self.stem] + self.levels())[:self.frozen_stages + 1]:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_weights(self):
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            # Not mmengine's PretrainedInit: that loads non-strictly and knows no foreign layout.
            load_backbone_checkpoint(self, self.init_cfg['checkpoint'],
                                     prefix=self.init_cfg.get('prefix'))
            self._is_init = True
        else:
            super().init_weights()

    def forward(self, x):
        x = self.stem(x)
        wanted = set(self.out_indices)
        feats = {}
        for i, level in enumerate(self.levels()[:max(self.out_indices) + 1]):
            x = run_level(level, x, self.with_cp)
            if i in wanted:
                feats[i] = x
        return tuple(feats[i] for i in self.out_indices)  # level order (out_indices is sorted)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

"""The authors' DRN segmentation model as their code builds it (github.com/fyu/drn: drn.py and
segment.py), written
here independently of drn_mm's DRN: the baseline "authors' model, fp32 eager" of the speed
comparisons. Its parameters carry the authors' Cityscapes key names (``base.K``, ``seg``, ``up``),
so their files load with a plain ``load_state_dict``.

- DRN-C: ``base`` = conv1, bn1, relu, then levels 1-8 of BasicBlocks (levels 3-6 of the arch's
  block; levels 7-8 without residual). DRN-D: ``base`` = layer0 (conv, BN, ReLU), levels 1-2 and
  7-8 conv-BN-ReLU layers, levels 3-6 of blocks.
- Levels 5 and 6 dilate every block by 2 and 4; strides 1, 2, 2, 2 at levels 1-4.
- ``seg``: 1x1 conv with bias; ``up``: ConvTranspose2d(C, C, 16, stride 8, padding 4, groups=C, no
  bias) holding a fixed bilinear kernel; the output is its log-softmax.
"""
from typing import Sequence

import torch
import torch.nn as nn

from ..models.backbones.drn import ARCH_SETTINGS
from ..models.decode_heads.drn_seg_head import bilinear_kernel

__all__ = ['AuthorsDRNSeg', 'authors_state_dict']


def _conv3x3(cin, cout, stride=1, dilation=1):
    return nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None, dilation=1, residual=True):
        super().__init__()
        self.conv1 = _conv3x3(cin, planes, stride, dilation)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes, 1, dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None, dilation=1, residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride, dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):  # the reference Bottleneck always adds its shortcut
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class AuthorsDRNSeg(nn.Module):
    """The authors' ``DRNSeg`` for a DRN-C or DRN-D preset (``arch`` as drn_mm names them)."""

    def __init__(self, arch: str = 'D-22', num_classes: int = 19,
                 channels: Sequence[int] = (16, 32, 64, 128, 256, 512, 512, 512)):
        super().__init__()
        setting = ARCH_SETTINGS[arch]
        if setting.style not in ('C', 'D'):
            raise ValueError(f'AuthorsDRNSeg builds DRN-C and DRN-D, not {arch}')
        block = _Bottleneck if setting.block == 'Bottleneck' else _Basic
        layers = setting.layers
        self.inplanes = channels[0]
        parts = [
            nn.Conv2d(3, channels[0], 7, padding=3, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True)
        ]
        if setting.style == 'D':
            parts = [
                nn.Sequential(*parts),
                self._conv_level(channels[0], layers[0]),
                self._conv_level(channels[1], layers[1], stride=2)
            ]
        else:
            parts += [
                self._block_level(_Basic, channels[0], layers[0]),
                self._block_level(_Basic, channels[1], layers[1], stride=2)
            ]
        parts += [
            self._block_level(block, channels[2], layers[2], stride=2),
            self._block_level(block, channels[3], layers[3], stride=2),
            self._block_level(block, channels[4], layers[4], dilation=2),
            self._block_level(block, channels[5], layers[5], dilation=4)
        ]
        if setting.style == 'D':
            parts += [
                self._conv_level(channels[6], layers[6], dilation=2),
                self._conv_level(channels[7], layers[7])
            ]
        else:
            parts += [
                self._block_level(_Basic, channels[6], layers[6], dilation=2, residual=False),
                self._block_level(_Basic, channels[7], layers[7], residual=False)
            ]
        self.base = nn.Sequential(*parts)
        self.seg = nn.Conv2d(channels[7], num_classes, 1, bias=True)
        self.up = nn.ConvTranspose2d(num_classes, num_classes, 16, stride=8, padding=4,
                                     groups=num_classes, bias=False)
        with torch.no_grad():
            self.up.weight.copy_(bilinear_kernel(16).expand_as(self.up.weight))
        self.up.weight.requires_grad = False

    def _conv_level(self, planes, num, stride=1, dilation=1):
        modules = []
        for i in range(num):
            modules += [
                _conv3x3(self.inplanes, planes, stride if i == 0 else 1, dilation),
                nn.BatchNorm2d(planes),
                nn.ReLU(inplace=True)
            ]
            self.inplanes = planes
        return nn.Sequential(*modules)

    def _block_level(self, block, planes, num, stride=1, dilation=1, residual=True):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        blocks = [block(self.inplanes, planes, stride, downsample, dilation, residual)]
        self.inplanes = planes * block.expansion
        blocks += [block(self.inplanes, planes, 1, None, dilation, residual) for _ in range(1, num)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        return torch.log_softmax(self.up(self.seg(self.base(x))), dim=1)


def authors_state_dict(state_dict, style: str) -> dict:
    """A drn_mm segmentor's weights (DRN-C or DRN-D ``style``) under the authors' DRNSeg names:
    ``base.K`` (DRN-D: base.0 = the stem, base.K = level K; DRN-C: base.0-2 = conv1, bn1, relu,
    base.K+2 = level K), ``seg`` and ``up``. A key with no place there is an error."""
    out = {}
    for key, value in state_dict.items():
        if key.startswith('backbone.stem.'):
            index, rest = key[len('backbone.stem.'):].split('.', 1)
            out[f'base.0.{index}.{rest}' if style == 'D' else f'base.{index}.{rest}'] = value
        elif key.startswith('backbone.layer'):
            level, rest = key[len('backbone.layer'):].split('.', 1)
            out[f'base.{int(level) + (0 if style == "D" else 2)}.{rest}'] = value
        elif key.startswith('decode_head.conv_seg.'):
            out['seg.' + key.rsplit('.', 1)[1]] = value
        elif key == 'decode_head.up.weight':
            out['up.weight'] = value
        else:
            raise ValueError(f'{key} has no place in the authors\' DRNSeg layout')
    return out

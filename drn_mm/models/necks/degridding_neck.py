from typing import Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModule

from ...registry import register_model
from ..layers import make_degridding_levels, run_level


@register_model()
class DegriddingNeck(BaseModule):
    """DRN's degridding levels (7 and 8) as a neck for any stride-8 dilated backbone.

    Dilation decreasing back to 1 after a dilated trunk removes gridding artifacts (DRN paper,
    section 4). This is the same code that builds levels 7-8 inside :class:`~drn_mm.DRN`.

    Args:
        in_channels (int): Channels of the feature it degrids (e.g. 512 for DRN levels 1-6 with
            BasicBlocks, 2048 for ResNetV1c-50 with dilations (1, 1, 2, 4)).
        channels (Sequence[int]): Width of each level. Default (512, 512).
        num_layers (Sequence[int]): Blocks or conv layers per level. Default (1, 1).
        dilations (Sequence[int]): Dilation of each level. Default (2, 1).
        style (str): 'block' (BasicBlocks, DRN-B/C) or 'conv' (conv-norm-ReLU, DRN-D).
        residual (bool): Residual connections in 'block' style: True is DRN-B, False DRN-C.
        in_index (int): Which of the input features to degrid. Default -1 (the last).
        conv_cfg, norm_cfg: mmcv layer configs.
        with_cp (bool): Gradient checkpointing per level.

    Inputs: a tuple of features (or one tensor). Outputs: the same tuple with the feature at
    ``in_index`` replaced by its degridded version (N, channels[-1], H, W), so heads that read
    ``in_index`` of the backbone's outputs keep working unchanged.
    """

    def __init__(self, in_channels: int, channels: Sequence[int] = (512, 512),
                 num_layers: Sequence[int] = (1, 1), dilations: Sequence[int] = (2, 1),
                 style: str = 'block', residual: bool = False, in_index: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True), with_cp: bool = False,
                 init_cfg=dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu',
                               distribution='normal')):
        super().__init__(init_cfg)
        levels = make_degridding_levels(in_channels, channels, num_layers, dilations, style,
                                        residual, conv_cfg, norm_cfg)
        self.layers = nn.ModuleList(level for level, _ in levels)
        self.in_channels = in_channels
        self.dilations = tuple(dilations)
        self.out_channels = levels[-1][1] if levels else in_channels
        self.in_index = in_index
        self.with_cp = with_cp

    def forward(self, inputs):
        single = not isinstance(inputs, (tuple, list))
        feats = [inputs] if single else list(inputs)
        x = feats[self.in_index]
        if x.shape[1] != self.in_channels:
            raise ValueError(f'DegriddingNeck: in_channels={self.in_channels} but the feature '
                             f'at in_index={self.in_index} has {x.shape[1]} channels')
        for level in self.layers:
            x = run_level(level, x, self.with_cp)
        feats[self.in_index] = x
        return x if single else tuple(feats)

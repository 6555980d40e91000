from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead

from ...registry import register_model


@register_model(('mmpretrain', ))
class CAMHead(ClsHead):
    """DRN's classifier: a 1x1 conv with bias shared by the logits and the dense class map.

    The logits are the global average of the feature followed by ``fc`` (equal to ``fc`` at every
    location followed by the average), for any input size. :meth:`class_map` applies ``fc`` at every
    location: the class activation map at the backbone's stride (8 for DRN), used for
    weakly-supervised localization with no retraining. ``fc`` loads the ``fc`` of the authors'
    ImageNet checkpoints (and torchvision's Linear fc for DRN-A) through drn_mm's conversion.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone feature (512 for DRN-B/C/D, 2048 for A-50).
        with_cam (bool): Also store each image's class map (C, h, w) in its data sample as
            ``pred_cam`` at prediction time (what localization metrics read). Default False.
        **kwargs: ClsHead options (``loss``, ``topk``, ``cal_acc``, ``init_cfg``).
    """

    def __init__(self, num_classes: int, in_channels: int, with_cam: bool = False,
                 init_cfg: Optional[dict] = dict(type='Normal', layer='Conv2d',
                                                 std=0.01), **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'CAMHead: num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.with_cam = with_cam
        self.fc = nn.Conv2d(in_channels, num_classes, kernel_size=1, bias=True)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'CAMHead: expects (N, {self.in_channels}, H, W) features, got '
                             f'{tuple(x.shape)}')
        return x

    def class_map(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(N, num_classes, H, W): the classifier at every location of the last feature."""
        return self.fc(self.pre_logits(feats))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(N, num_classes) logits: ``fc`` of the globally averaged feature."""
        pooled = self.pre_logits(feats).mean(dim=(2, 3), keepdim=True)
        return self.fc(pooled).flatten(1)

    def predict(self, feats: Tuple[torch.Tensor], data_samples: Optional[List] = None):
        if not self.with_cam:
            return super().predict(feats, data_samples)
        cams = self.class_map(feats)
        logits = cams.mean(dim=(2, 3))
        predictions = self._get_predictions(logits, data_samples)
        for sample, cam in zip(predictions, cams):
            sample.set_field(cam.detach(), 'pred_cam', field_type='data')
        return predictions

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize

from ...registry import register_model

UPSAMPLE_MODES = ('deconv', 'bilinear')


def bilinear_kernel(kernel_size: int) -> torch.Tensor:
    """The (kernel_size x kernel_size) bilinear interpolation kernel of FCN-style upsampling.

    Used with stride ``kernel_size // 2`` and padding ``kernel_size // 4`` it interpolates a map
    to ``stride`` times its size, each input cell landing on the centre of its output cell.
    """
    factor = math.ceil(kernel_size / 2)
    center = (2 * factor - 1 - factor % 2) / (2.0 * factor)
    ramp = 1 - (torch.arange(kernel_size, dtype=torch.float64) / factor - center).abs()
    return (ramp[:, None] * ramp[None, :]).float()


def phase_kernels(up_weight: torch.Tensor, stride: int) -> torch.Tensor:
    """The transposed conv (kernel 2*stride, stride, padding stride//2, one group per channel) as
    ``stride**2`` 3x3 kernels per channel, one per output phase.

    ``conv_transpose2d(x, up_weight, stride=s, padding=s//2, groups=C)`` equals
    ``pixel_shuffle(conv2d(x, phase_kernels(up_weight, s), padding=1, groups=C), s)``: output
    pixel ``s*q + m`` takes input ``q + d`` (d in -1, 0, 1) with weight ``w[m + s + s/2 - s*d]``
    where that index is inside the kernel, else 0. The same products are summed (only in another
    order), but a dense depthwise conv and a pixel shuffle run far faster than a grouped
    transposed conv, in the forward pass and in the backward pass.

    Args:
        up_weight (Tensor): (C, 1, 2*stride, 2*stride).

    Returns:
        Tensor: (C * stride**2, 1, 3, 3), channels ordered (c, phase_row, phase_col).
    """
    channels, _, k, _ = up_weight.shape
    if k != 2 * stride or stride % 2:
        raise ValueError(f'phase_kernels: kernel {k} with stride {stride}; needs an even stride '
                         'and kernel 2 * stride')
    m = torch.arange(stride, device=up_weight.device)
    index = m[:, None] + stride + stride // 2 - stride * torch.arange(3, device=m.device)[None]
    valid = (index >= 0) & (index < k)  # (stride, 3)
    index = index.clamp(0, k - 1)
    w = up_weight[:, 0]
    kernels = w[:, index[:, None, :, None], index[None, :, None, :]]  # (C, s, s, 3, 3)
    mask = valid[:, None, :, None] & valid[None, :, None, :]
    return (kernels * mask).reshape(channels * stride * stride, 1, 3, 3)


@register_model(('mmseg', ))
class DRNSegHead(BaseDecodeHead):
    """The DRN paper's segmentation head: a 1x1 classifier, then fixed x8 bilinear upsampling.

    As the authors' model: ``conv_seg`` (1x1 conv with bias) on the stride-8 features, then a
    grouped ``ConvTranspose2d(C, C, 16, stride=8, padding=4)`` whose weights are a frozen bilinear
    kernel (``up``). The logits come out at the input resolution and the loss is taken there.

    Args:
        in_channels (int): Channels of the backbone feature (512 for DRN-B/C/D).
        num_classes (int): Number of classes.
        upsample (str): 'deconv' (the reference's fixed transposed conv) or 'bilinear'
            (mmseg's usual resize of stride-8 logits, with ``align_corners``).
        upsample_factor (int): Output stride of the features (8 for every DRN).
        **kwargs: BaseDecodeHead options (``loss_decode``, ``ignore_index``, ``in_index``, ...).
            ``channels`` defaults to ``in_channels`` and ``dropout_ratio`` to 0, as in the paper.
    """

    def __init__(self, in_channels: int, num_classes: int, upsample: str = 'deconv',
                 upsample_factor: int = 8, **kwargs):
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f'DRNSegHead: upsample={upsample!r}; valid: {UPSAMPLE_MODES}')
        kwargs.setdefault('channels', in_channels)
        kwargs.setdefault('dropout_ratio', 0.0)
        kwargs.setdefault('init_cfg', dict(type='Normal', std=0.01, override=dict(name='conv_seg')))
        if kwargs['channels'] != in_channels:
            raise ValueError(f'DRNSegHead classifies the backbone feature directly: channels='
                             f'{kwargs["channels"]} must equal in_channels={in_channels}')
        super().__init__(in_channels, num_classes=num_classes, **kwargs)
        self.upsample = upsample
        self.upsample_factor = upsample_factor
        if upsample == 'deconv':
            k = 2 * upsample_factor
            self.up = nn.ConvTranspose2d(self.out_channels, self.out_channels, k,
                                         stride=upsample_factor, padding=upsample_factor // 2,
                                         groups=self.out_channels, bias=False)
            self.up.weight.requires_grad = False
            self._reset_up()

    def _reset_up(self):
        with torch.no_grad():
            self.up.weight.copy_(bilinear_kernel(self.up.kernel_size[0]).expand_as(self.up.weight))

    def init_weights(self):
        super().init_weights()
        if self.upsample == 'deconv':  # mmengine inits must not touch the fixed kernel
            self._reset_up()

    def upsample_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """``self.up(logits)``, computed as a depthwise 3x3 conv and a pixel shuffle (see
        :func:`phase_kernels`); the kernels come from ``up.weight`` (loaded checkpoints
        included)."""
        s = self.upsample_factor
        kernels = phase_kernels(self.up.weight, s).to(logits.dtype)
        phases = F.conv2d(logits, kernels, padding=1, groups=logits.shape[1])
        return F.pixel_shuffle(phases, s)

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'DRNSegHead: in_channels={self.in_channels} but the backbone '
                             f'feature has {x.shape[1]} channels')
        logits = self.cls_seg(x)
        if self.upsample == 'deconv':
            logits = self.upsample_logits(logits)
        return logits

    def _fit(self, seg_logits, size):
        """Crop the upsampled logits to ``size``; the rest is BaseDecodeHead's bilinear resize."""
        if self.upsample == 'deconv':
            seg_logits = seg_logits[..., :size[0], :size[1]]
        if tuple(seg_logits.shape[2:]) != tuple(size):
            seg_logits = resize(seg_logits, size=size, mode='bilinear',
                                align_corners=self.align_corners)
        return seg_logits

    def loss_by_feat(self, seg_logits, batch_data_samples):
        """mmseg's decode-head losses at label resolution; ``acc_seg`` from an argmax taken
        without gradient (mmseg's ``topk`` over full-resolution logits costs milliseconds)."""
        size = batch_data_samples[0].gt_sem_seg.data.shape[-2:]
        seg_logits = self._fit(seg_logits, size)
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        seg_weight = self.sampler.sample(seg_logits, seg_label) if self.sampler else None
        losses = {}
        losses_decode = (
            self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode])
        for loss_decode in losses_decode:
            value = loss_decode(seg_logits, seg_label, weight=seg_weight,
                                ignore_index=self.ignore_index)
            name = loss_decode.loss_name
            losses[name] = losses[name] + value if name in losses else value
        with torch.no_grad():
            valid = seg_label != self.ignore_index
            correct = (seg_logits.argmax(dim=1) == seg_label) & valid
            losses['acc_seg'] = correct.sum().float().mul_(100.0) / valid.sum().clamp_min(1)
        return losses

    def predict_by_feat(self, seg_logits, batch_img_metas):
        """Logits at the (padded) input size, as BaseDecodeHead's; its bilinear resize is left
        out where the upsampled logits already have that size (it would copy them: a full-
        resolution pass per image)."""
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):  # slide inference
            size = meta['img_shape']
        else:
            size = meta.get('pad_shape', meta['img_shape'])[:2]
        return self._fit(seg_logits, size)

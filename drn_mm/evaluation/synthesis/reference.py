"""The authors' segmentation test (fyu/drn ``segment.py test`` and ``test --ms``), exactly: the
input normalization, the single-scale and multi-scale forward passes with PIL resizing, the
confusion matrix and the nanmean mIoU. ``tests/data/reference_seg_eval.pt`` holds what
their code computes; the tests compare every pixel.

- Normalization: ``uint8 / 255`` in float32, minus the mean, divided by the std (torchvision's
  ``ToTensor`` then ``Normalize``), with the full-precision statistics of the reference's
  Cityscapes ``info.json`` (:data:`CITYSCAPES_MEAN`, :data:`CITYSCAPES_STD`), so that ties break
  as theirs do.
- Single scale: the log-softmax of the model's full-resolution logits, argmax over classes.
- Multi-scale: scale 1 plus 0.5, 0.75, 1.25, 1.5, 1.75 (:data:`MS_SCALES`); each scaled copy is
  the uint8 image resized by PIL ``BICUBIC`` to ``(int(w*s), int(h*s))``; each log-softmax map is
  resized back to ``(w, h)`` channel by channel with PIL ``BILINEAR`` on float32 ('F') images; the
  maps are summed, then argmax.
- Scores: a confusion matrix over labels in ``[0, C)`` (255 and anything else ignored), per-class
  IoU ``diag / (row + col - diag)``, mIoU = nanmean x 100 (classes absent from both prediction and
  labels are NaN and left out).
"""
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

__all__ = [
    'CITYSCAPES_MEAN', 'CITYSCAPES_STD', 'MS_SCALES', 'normalize', 'log_probabilities',
    'resize_image', 'LABEL_RESIZES', 'resize_label', 'resize_log_probabilities', 'segment',
    'fast_hist', 'per_class_iou'
]

#: the reference's datasets/cityscapes/info.json, full precision (0-1 range, RGB)
CITYSCAPES_MEAN = (0.29010095242892997, 0.32808144844279574, 0.28696394422942517)
CITYSCAPES_STD = (0.1829540508368939, 0.18656561047509476, 0.18447508988480435)
#: the scales of ``segment.py test --ms``, in its order
MS_SCALES = (1.0, 0.5, 0.75, 1.25, 1.5, 1.75)

_PIL = {
    'nearest': Image.NEAREST,
    'bilinear': Image.BILINEAR,
    'bicubic': Image.BICUBIC,
    'lanczos': Image.LANCZOS,
    'box': Image.BOX
}


def normalize(image: np.ndarray, mean: Sequence[float] = CITYSCAPES_MEAN,
              std: Sequence[float] = CITYSCAPES_STD) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float32, as ``ToTensor`` + ``Normalize``."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {image.dtype} '
                         f'{image.shape}')
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255)
    m = torch.tensor(mean, dtype=torch.float32)[:, None, None]
    s = torch.tensor(std, dtype=torch.float32)[:, None, None]
    return x.sub(m).div(s)[None]


def log_probabilities(model, x: torch.Tensor, forward=None) -> torch.Tensor:
    """The log-softmax of a segmentor's full-resolution logits (``mode='tensor'``): (N, C, H', W'),
    H' = 8 * ceil(H / 8) for DRN's x8 head, as the reference's. ``forward``: another way to the
    same logits (a bf16 / int8 :class:`~drn_mm.deploy.precision.Predictor`)."""
    with torch.no_grad():
        if forward is not None:
            logits = forward(x)
        else:
            logits = model(x.to(next(model.parameters()).device), mode='tensor')
    return F.log_softmax(logits.float(), dim=1).cpu()


def resize_image(image: np.ndarray, size, method: str = 'bicubic') -> np.ndarray:
    """uint8 (H, W, 3) -> (h, w, 3) with PIL; ``size`` is (h, w)."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(Image.fromarray(image).resize((w, h), _PIL[method]))


#: how labels are resized where a protocol resizes them: PIL NEAREST is the authors' (and
#: OASIS's); the others are steps some papers took, kept to reproduce them (flagged as legacy)
LABEL_RESIZES = ('nearest', 'torch-nearest', 'bilinear-legacy')


def resize_label(label: np.ndarray, size, method: str = 'nearest') -> np.ndarray:
    """uint8 (H, W) label map -> (h, w).

    ``method``: 'nearest' (PIL NEAREST, the authors'); 'torch-nearest' (``F.interpolate(mode=
    'nearest')``, whose sampling grid differs from PIL's; 'nearest-exact' does not);
    'bilinear-legacy' (PIL BILINEAR on the label values, as torchvision's default ``Resize``
    does: blends ids at edges, a flawed step some papers took).
    """
    if method not in LABEL_RESIZES:
        raise ValueError(f'label resize {method!r}; valid: {LABEL_RESIZES}')
    h, w = size
    if label.shape == (h, w):
        return label
    if method == 'torch-nearest':
        out = F.interpolate(
            torch.from_numpy(label)[None, None].float(), size=(h, w), mode='nearest')
        return out[0, 0].to(torch.uint8).numpy()
    resample = Image.NEAREST if method == 'nearest' else Image.BILINEAR
    return np.asarray(Image.fromarray(label).resize((w, h), resample))


def resize_log_probabilities(logprob: torch.Tensor, size) -> torch.Tensor:
    """(C, H, W) float32 -> (C, h, w), each channel a PIL 'F' image resized with BILINEAR (the
    reference's ``resize_4d_tensor``; GAN Compression's metric does the same)."""
    h, w = size
    if tuple(logprob.shape[1:]) == (h, w):
        return logprob
    channels = [
        np.asarray(
            Image.fromarray(c.numpy().astype(np.float32), mode='F').resize((w, h), Image.BILINEAR))
        for c in logprob
    ]
    return torch.from_numpy(np.stack(channels))


def segment(model, image: np.ndarray, ms: bool = False, mean=CITYSCAPES_MEAN, std=CITYSCAPES_STD,
            forward=None) -> torch.Tensor:
    """The reference's per-image log-probabilities: (C, H, W) single scale (the model's output
    cropped to the image: equal to it when H, W are multiples of 8, as the reference requires),
    or the multi-scale sum."""
    h, w = image.shape[:2]
    if not ms:
        return log_probabilities(model, normalize(image, mean, std), forward)[0, :, :h, :w]
    total = None
    for scale in MS_SCALES:
        scaled = image if scale == 1.0 else np.asarray(
            Image.fromarray(image).resize((int(w * scale), int(h * scale)), Image.BICUBIC))
        out = resize_log_probabilities(
            log_probabilities(model, normalize(scaled, mean, std), forward)[0], (h, w))
        total = out if total is None else total + out
    return total


def fast_hist(label: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion matrix (rows: label, columns: prediction) over pixels with label in
    ``[0, num_classes)``."""
    label = np.asarray(label).ravel().astype(np.int64)
    pred = np.asarray(pred).ravel().astype(np.int64)
    keep = (label >= 0) & (label < num_classes)
    return np.bincount(num_classes * label[keep] + pred[keep],
                       minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_iou(hist: np.ndarray) -> np.ndarray:
    """IoU per class; NaN where a class is absent from labels and predictions."""
    diag = np.diag(hist).astype(np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        return diag / (hist.sum(1) + hist.sum(0) - diag)

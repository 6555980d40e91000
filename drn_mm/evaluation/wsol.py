"""Weakly-supervised localization evaluated as the field does since Choe et al., "Evaluating
Weakly Supervised Object Localization Methods Right" (CVPR 2020): threshold sweeps over
min-max-normalized class activation maps, MaxBoxAccV2 and PxAP (Choe et al., CVPR 2020,
"Evaluating Weakly Supervised Object Localization Methods Right").

- Each CAM is normalized per image to [0, 1]: ``(cam - min) / (max - min)`` (a constant map becomes
  all zeros).
- Thresholds ``tau`` on a grid of step 0.01: 0.00, 0.01, ..., 0.99 (:func:`thresholds`).
- Boxes at ``tau``: one per 8-connected component of ``{cam >= tau}``, its tight pixel extent
  ``[x0, y0, x1, y1)`` (half-open: x1 - x0 is the width in pixels); IoU of two boxes is the ratio of
  those areas. MaxBoxAcc (V1) keeps the largest component only; V2 keeps all.
- An image is correct at ``(tau, delta)`` when some box (all components) has IoU >= delta with some
  ground-truth box of the image. ``MaxBoxAcc(delta) = max_tau`` of the fraction of correct images;
  **MaxBoxAccV2** is its mean over delta in {0.3, 0.5, 0.7}, each delta with its own best tau.
- **PxAP**: over the whole set, precision and recall of the pixels ``{cam >= tau}`` against the
  ground-truth masks at every tau; the area under the precision-recall curve, taken from the
  highest threshold down: ``sum_i P(tau_i) * (R(tau_i) - R(tau_{i-1}))`` with ``R = 0`` above the
  highest threshold. ``PIoU`` (with ``PIoU_tau``): the best pixel IoU over the thresholds.
"""
from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'IOU_THRESHOLDS', 'thresholds', 'normalize_cam', 'component_boxes', 'box_iou_matrix',
    'best_ious', 'max_box_acc', 'pixel_counts', 'pxap_from_counts', 'PxAPAccumulator', 'pxap'
]

#: the delta of MaxBoxAccV2
IOU_THRESHOLDS = (0.3, 0.5, 0.7)


def thresholds(step: float = 0.01) -> np.ndarray:
    """0, step, 2 step, ... below 1 (100 values for 0.01)."""
    return np.arange(0, round(1 / step)) * step


def normalize_cam(cam) -> np.ndarray:
    """Min-max normalization of one (H, W) map to [0, 1] (float64)."""
    cam = np.asarray(cam, dtype=np.float64)
    low, high = cam.min(), cam.max()
    if high - low <= 0:
        return np.zeros_like(cam)
    return (cam - low) / (high - low)


def component_boxes(mask: np.ndarray, largest_only: bool = False) -> np.ndarray:
    """(K, 4) boxes ``[x0, y0, x1, y1)`` of the 8-connected components of a boolean mask."""
    import cv2
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    stats = stats[1:]  # label 0 is the background
    if len(stats) == 0:
        return np.zeros((0, 4), np.float64)
    if largest_only:
        stats = stats[[int(np.argmax(stats[:, cv2.CC_STAT_AREA]))]]
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.float64)


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (K, 4) with every box of ``b`` (G, 4), half-open boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def best_ious(cam, gt_boxes, taus: Optional[np.ndarray] = None, largest_only: bool = False,
              transform: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> np.ndarray:
    """For one image: at each threshold, the best IoU of any box of ``{normalized cam >= tau}``
    with any ground-truth box; (T,) array (0 where the mask is empty). ``transform`` maps the
    boxes from the CAM's pixels to the ground truth's (e.g. input -> original image)."""
    cam = normalize_cam(cam)
    taus = thresholds() if taus is None else taus
    out = np.zeros(len(taus))
    for i, tau in enumerate(taus):
        boxes = component_boxes(cam >= tau, largest_only)
        if transform is not None and len(boxes):
            boxes = transform(boxes)
        ious = box_iou_matrix(boxes, gt_boxes)
        out[i] = ious.max() if ious.size else 0.0
    return out


def max_box_acc(per_image_ious: Iterable[np.ndarray], taus: Optional[np.ndarray] = None,
                deltas: Sequence[float] = IOU_THRESHOLDS) -> Dict[str, object]:
    """MaxBoxAcc per delta (with its best tau) and their mean, in percent, from
    :func:`best_ious` of every image."""
    ious = np.stack(list(per_image_ious))  # (N, T)
    taus = thresholds() if taus is None else taus
    result = {}
    for delta in deltas:
        accuracy = (ious >= delta).mean(axis=0)  # (T,)
        best = int(np.argmax(accuracy))  # the first (lowest) tau among ties
        key = f'MaxBoxAcc@{int(round(delta * 100))}'
        result[key] = float(accuracy[best] * 100)
        result[key + '_tau'] = float(taus[best])
    result['MaxBoxAccV2'] = float(
        np.mean([result[f'MaxBoxAcc@{int(round(d * 100))}'] for d in deltas]))
    return result


def pixel_counts(cam, mask,
                 taus: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray, int]:
    """(true positives, false positives) per threshold of the min-max normalized ``cam`` against
    the boolean ``mask`` (same (H, W) size), and the mask's pixel count: what PxAP sums over a
    data set."""
    taus = thresholds() if taus is None else np.asarray(taus)
    cam = normalize_cam(cam)
    mask = np.asarray(mask, bool)
    if cam.shape != mask.shape:
        raise ValueError(f'CAM {cam.shape} and mask {mask.shape} differ in size')
    on = cam[None] >= taus[:, None, None]  # (T, H, W)
    tp = (on & mask[None]).sum(axis=(1, 2)).astype(np.int64)
    fp = (on & ~mask[None]).sum(axis=(1, 2)).astype(np.int64)
    return tp, fp, int(mask.sum())


def pxap_from_counts(tp: np.ndarray, fp: np.ndarray, positives: int,
                     taus: Optional[np.ndarray] = None) -> Dict[str, float]:
    """PxAP (area under the pixel precision-recall curve, %) from counts summed over a data set,
    and the best pixel IoU over thresholds (``PIoU``, %) with its threshold (``PIoU_tau``)."""
    taus = thresholds() if taus is None else np.asarray(taus)
    precision, recall = _precision_recall(tp, fp, positives)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.asarray(tp, np.float64) / (np.asarray(fp, np.float64) + positives)
    best = int(np.argmax(iou))  # tp / (tp + fp + fn), fn = positives - tp
    return dict(
        PxAP=_average_precision(precision, recall, taus) * 100, PIoU=float(iou[best] * 100),
        PIoU_tau=float(taus[best]))


def _precision_recall(tp, fp, positives) -> Tuple[np.ndarray, np.ndarray]:
    tp, fp = np.asarray(tp, np.float64), np.asarray(fp, np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
    return precision, tp / max(positives, 1)


def _average_precision(precision, recall, taus) -> float:
    """Area under the precision-recall curve, from the highest threshold down (recall grows)."""
    order = np.argsort(-np.asarray(taus))
    r = np.concatenate([[0.0], recall[order]])
    return float(np.sum(precision[order] * np.diff(r)))


class PxAPAccumulator:
    """Pixel counts at every threshold over a data set: add (cam, mask) pairs, then
    :meth:`compute`."""

    def __init__(self, taus: Optional[np.ndarray] = None):
        self.taus = thresholds() if taus is None else np.asarray(taus)
        self.tp = np.zeros(len(self.taus), np.int64)
        self.fp = np.zeros(len(self.taus), np.int64)
        self.positives = 0

    def add(self, cam, mask) -> None:
        tp, fp, positives = pixel_counts(cam, mask, self.taus)
        self.tp += tp
        self.fp += fp
        self.positives += positives

    def compute(self) -> Tuple[float, np.ndarray, np.ndarray]:
        """(PxAP in percent, precision per tau, recall per tau)."""
        precision, recall = _precision_recall(self.tp, self.fp, self.positives)
        return _average_precision(precision, recall, self.taus) * 100, precision, recall


def pxap(pairs: Iterable[Tuple[np.ndarray, np.ndarray]],
         taus: Optional[np.ndarray] = None) -> float:
    acc = PxAPAccumulator(taus)
    for cam, mask in pairs:
        acc.add(cam, mask)
    return acc.compute()[0]

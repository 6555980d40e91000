"""Weakly-supervised localization errors of a classifier's class maps (ILSVRC-style).

For each image, a box is taken from the class map of its ground-truth class (either protocol of
:mod:`drn_mm.evaluation.localization`), mapped back to original-image pixels and compared with
the image's
ground-truth boxes of that class; it *localizes* when its best IoU is >= ``iou_thr``. Then, in %:

- ``top{k}_cls_err``: the ground-truth class is not among the top-k scores.
- ``gt_known_loc_err``: the box does not localize (class given, classification ignored).
- ``top{k}_loc_err``: the ground-truth class is not in the top k, or its box does not localize.

Only the ground-truth class's box matters for ``top{k}_loc_err``: a guess of another class is
wrong whatever its box, so "some top-k guess has the right class and a good box" equals "the
right class is in the top k and its box is good" (the ILSVRC definition).
"""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..registry import register
from .localization import (DEFAULT_THRESHOLDS, PROTOCOLS, box_iou, box_to_original,
                           cams_to_original, geometry_from_metainfo, localize, upsample_cam)
from .wsol import best_ious, max_box_acc, pixel_counts, pxap_from_counts, thresholds


@register('METRICS', ('mmpretrain', ))
class LocalizationMetric(BaseMetric):
    """Top-k localization error, GT-known localization error and top-k classification error.

    Reads from each data sample: ``pred_cam`` (C, h, w) (``CAMHead(with_cam=True)``),
    ``pred_score`` (C,), ``gt_label``, ``ori_bboxes`` (K, 4) and ``ori_bbox_labels`` (K,) in
    original-image pixels (:class:`~drn_mm.datasets.ImageNetLocalization`,
    :class:`~drn_mm.datasets.CUBLocalization`), ``ori_shape``, ``img_shape`` and what the pipeline
    recorded of its resize / crop
    (:func:`drn_mm.evaluation.localization.geometry_from_metainfo`). Boxes
    are computed per batch, so class maps are never accumulated.

    Args:
        protocol (str): 'paper' (argmax class map, cells with ``f(c) > threshold``, smallest
            enclosing box) or 'cam' (upsample, keep ``>= threshold x max``, box of the largest
            connected component).
        threshold (float, optional): raw class-map value for 'paper', fraction of the maximum
            in [0, 1] for 'cam'. Default: 0.0 for 'paper', 0.2 for 'cam'.
        topk (int | Sequence[int]): k of the top-k errors (clipped to the number of classes).
        iou_thr (float): IoU a box needs to localize. Default 0.5.
        stride (int): pixels per class-map cell (8 for DRN, 32 for a ResNet).
        cam_normalize (str): 'max' or 'minmax' (CAM protocol only).
        connectivity (int): 8 or 4 (CAM protocol only).
        max_box_acc (bool): Also report MaxBoxAcc@30/50/70 (with their best thresholds) and
            MaxBoxAccV2 of Choe et al. 2020 (:mod:`drn_mm.evaluation.wsol`): the GT class's CAM
            upsampled to the input, min-max normalized, swept over 100 thresholds, boxes of all
            components mapped to original pixels. Off by default: the paper's protocol (the
            errors above) is what DRN's published numbers use, and the sweep costs about 100
            connected-component passes per image.
        pxap (bool): Also report PxAP (%, the area under the pixel precision-recall curve of the
            GT class's min-max normalized CAM against the object masks, over the same 100
            thresholds) and PIoU (the best pixel IoU, with its threshold): needs
            ``ori_mask_path`` in each sample (``CUBLocalization(mask_dir=...)``, kept in
            ``PackInputs`` meta keys) and a test pipeline that only resizes (the CAM is resized
            to the original image). Off by default, as ``max_box_acc``.
        collect_device (str): 'cpu' or 'gpu' for collecting results across ranks.
        prefix (str, optional): metric name prefix. Default 'localization'.
    """
    default_prefix: Optional[str] = 'localization'

    def __init__(self, protocol: str = 'paper', threshold: Optional[float] = None,
                 topk: Union[int, Sequence[int]] = (1, 5), iou_thr: float = 0.5, stride: int = 8,
                 cam_normalize: str = 'max', connectivity: int = 8, max_box_acc: bool = False,
                 pxap: bool = False, collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in PROTOCOLS:
            raise ValueError(f'LocalizationMetric: protocol={protocol!r}; valid: {PROTOCOLS}')
        self.protocol = protocol
        self.threshold = DEFAULT_THRESHOLDS[protocol] if threshold is None else float(threshold)
        if protocol == 'cam' and not 0 <= self.threshold <= 1:
            raise ValueError(f'LocalizationMetric: threshold={threshold} must be in [0, 1] for '
                             "the 'cam' protocol (a fraction of the map's maximum)")
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not self.topk or any(not isinstance(k, int) or k < 1 for k in self.topk):
            raise ValueError(f'LocalizationMetric: topk={topk!r} must be positive ints')
        if not 0 < iou_thr <= 1:
            raise ValueError(f'LocalizationMetric: iou_thr={iou_thr} must be in (0, 1]')
        self.iou_thr = iou_thr
        self.stride = stride
        self.max_box_acc = max_box_acc
        self.pxap = pxap
        self.cam_kwargs = {} if protocol == 'paper' else dict(normalize=cam_normalize,
                                                              connectivity=connectivity)

    @staticmethod
    def _require(sample: dict, key: str, hint: str):
        if key not in sample:
            where = sample.get('img_path', 'a data sample')
            raise KeyError(f'LocalizationMetric: {where} has no {key!r}; {hint}')
        return sample[key]

    def gt_known_box(self, sample: dict) -> torch.Tensor:
        """(4,) box of the ground-truth class in original-image pixels."""
        cam = self._require(sample, 'pred_cam', 'build the head with with_cam=True '
                            '(CAMHead(with_cam=True))')
        label = int(self._require(sample, 'gt_label', 'the dataset needs labels').reshape(-1)[0])
        geometry = geometry_from_metainfo(sample)
        box = localize(cam.detach().float().cpu(), [label], self.protocol, self.threshold,
                       self.stride, input_size=tuple(sample['img_shape'][:2]), **self.cam_kwargs)[0]
        return box_to_original(box, geometry)

    def process(self, data_batch, data_samples: Sequence[dict]):
        hint = ('use a dataset with boxes (ImageNetLocalization, CUBLocalization) and keep them '
                "with PackInputs(meta_keys=(..., 'ori_bboxes', 'ori_bbox_labels'))")
        for sample in data_samples:
            label = self._require(sample, 'gt_label', 'the dataset needs labels')
            label = int(label.reshape(-1)[0])
            score = self._require(sample, 'pred_score', 'the head must predict scores')
            gt_boxes = torch.as_tensor(
                np.asarray(self._require(sample, 'ori_bboxes', hint)),
                dtype=torch.float32).reshape(-1, 4)
            if 'ori_bbox_labels' in sample:
                box_labels = torch.as_tensor(np.asarray(sample['ori_bbox_labels'])).reshape(-1)
                gt_boxes = gt_boxes[box_labels == label]
            if gt_boxes.numel() == 0:
                raise ValueError(f'LocalizationMetric: {sample.get("img_path", "a data sample")} '
                                 f'has no ground-truth box of its class {label}')
            box = self.gt_known_box(sample)
            maxk = min(max(self.topk), score.numel())
            ranked = score.detach().float().cpu().topk(maxk).indices.tolist()
            result = dict(gt_label=label, ranked=ranked, box=box.tolist(),
                          iou=float(box_iou(box, gt_boxes).max()))
            if self.max_box_acc:
                result['sweep_ious'] = self.sweep_ious(sample, label, gt_boxes).tolist()
            if self.pxap:
                tp, fp, positives = pixel_counts(
                    self.original_cam(sample, label), self.object_mask(sample))
                result.update(pxap_tp=tp.tolist(), pxap_fp=fp.tolist(), pxap_pos=positives)
            self.results.append(result)

    def original_cam(self, sample: dict, label: int) -> np.ndarray:
        """The GT class's CAM at the original image's pixels
        (:func:`~drn_mm.evaluation.localization.cams_to_original`: a cropping test pipeline is
        refused, as the CAM would not cover the whole image)."""
        return cams_to_original(sample['pred_cam'][label:label + 1], sample, self.stride)[0].numpy()

    @staticmethod
    def object_mask(sample: dict) -> np.ndarray:
        """The object's boolean mask (non-zero pixels of ``ori_mask_path``)."""
        from PIL import Image
        path = LocalizationMetric._require(
            sample, 'ori_mask_path', 'use CUBLocalization(mask_dir=...) and keep '
            "'ori_mask_path' in PackInputs meta_keys")
        with Image.open(path) as image:
            mask = np.asarray(image.convert('L')) > 0
        if tuple(mask.shape) != tuple(int(v) for v in sample['ori_shape'][:2]):
            raise ValueError(f'mask {path} is {mask.shape}, its image {sample.get("img_path")} '
                             f'{tuple(sample["ori_shape"][:2])}')
        return mask

    def sweep_ious(self, sample: dict, label: int, gt_boxes: torch.Tensor) -> np.ndarray:
        """Best IoU with the GT boxes at each of the 100 thresholds (MaxBoxAccV2)."""
        geometry = geometry_from_metainfo(sample)
        cam = upsample_cam(sample['pred_cam'][label].detach().float().cpu(), self.stride,
                           input_size=tuple(sample['img_shape'][:2]))
        return best_ious(cam.numpy(), gt_boxes.numpy(),
                         transform=lambda b: box_to_original(b, geometry).numpy())

    def compute_metrics(self, results: List[dict]) -> dict:
        num = len(results)
        if num == 0:  # mmengine has warned already
            return {}

        def percent_wrong(correct: np.ndarray) -> float:
            return 100.0 * int(np.count_nonzero(~correct)) / num

        localized = np.array([r['iou'] >= self.iou_thr for r in results], dtype=bool)
        metrics = {'gt_known_loc_err': percent_wrong(localized)}
        for k in self.topk:
            hit = np.array([r['gt_label'] in r['ranked'][:k] for r in results], dtype=bool)
            metrics[f'top{k}_cls_err'] = percent_wrong(hit)
            metrics[f'top{k}_loc_err'] = percent_wrong(hit & localized)
        metrics['mean_iou'] = 100.0 * float(np.mean([r['iou'] for r in results]))
        if self.max_box_acc:
            metrics.update(max_box_acc([np.asarray(r['sweep_ious']) for r in results]))
        if self.pxap:
            metrics.update(
                pxap_from_counts(
                    np.sum([r['pxap_tp'] for r in results], axis=0),
                    np.sum([r['pxap_fp'] for r in results], axis=0),
                    sum(r['pxap_pos'] for r in results), thresholds()))
        print_log(self.format_table(metrics, len(results)), logger='current')
        return metrics

    def format_table(self, metrics: dict, num_images: int) -> str:
        """The metrics as a text table (what tools/test.py shows in its log)."""
        rows = [('top-%d localization error' % k, metrics[f'top{k}_loc_err']) for k in self.topk]
        rows.append(('GT-known localization error', metrics['gt_known_loc_err']))
        rows += [('top-%d classification error' % k, metrics[f'top{k}_cls_err']) for k in self.topk]
        rows.append(('mean IoU (GT class)', metrics['mean_iou']))
        if 'MaxBoxAccV2' in metrics:
            rows += [(f'MaxBoxAcc@{d} (best tau {metrics[f"MaxBoxAcc@{d}_tau"]:.2f})',
                      metrics[f'MaxBoxAcc@{d}']) for d in (30, 50, 70)]
            rows.append(('MaxBoxAccV2 (Choe et al. 2020)', metrics['MaxBoxAccV2']))
        if 'PxAP' in metrics:
            rows += [('PxAP (Choe et al. 2020)', metrics['PxAP']),
                     (f'PIoU (best tau {metrics["PIoU_tau"]:.2f})', metrics['PIoU'])]
        setting = (f'protocol={self.protocol}, threshold={self.threshold:g}, '
                   f'IoU >= {self.iou_thr:g}, {num_images} images')
        width = max(len(name) for name, _ in rows)
        lines = [f'Weakly-supervised localization ({setting})', '-' * (width + 10)]
        lines += [f'{name:<{width}}  {value:6.2f} %' for name, value in rows]
        lines.append('-' * (width + 10))
        return '\n'.join(lines)

"""Weakly-supervised localization: from a classifier's dense class map to a box.

A DRN classifier (``ImageClassifier`` + :class:`~drn_mm.models.CAMHead`) gives a class map
``f`` of shape (C, h, w) at the backbone's output stride (8 for DRN) with no retraining. Two
protocols turn it into a box for a class ``c``:

- **paper** (Yu, Koltun, Funkhouser, CVPR 2017, section 6): ``g = argmax_c f``; take
  the cells where ``g == c`` and ``f(c) > t`` (activation threshold ``t``, on the raw class-map
  values); the box is the smallest box containing all of them. See
  :func:`boxes_from_class_map_paper`.
- **cam** (the common CAM protocol, Zhou et al. 2016): upsample ``f(c)`` to the input
  resolution (bilinear), keep the pixels whose value is at least a fraction ``t`` of the map's
  maximum, and take the box of the largest connected component. See :func:`box_from_cam`.

Conventions (every function here):

- **Boxes** are ``(x1, y1, x2, y2)`` float tensors in pixels of the image they refer to (the
  network input unless said otherwise), in continuous coordinates: pixel column ``i`` covers
  ``[i, i + 1)``, so a box covering pixel columns ``a..b`` *inclusive* is ``x1 = a, x2 = b + 1``
  (``x2``/``y2`` are exclusive ends; width is ``x2 - x1``).
- **Empty box**: when nothing is selected the box is ``(0, 0, 0, 0)``; it has area 0 and
  :func:`box_iou` gives it IoU 0 with every box, so an empty map counts as a localization miss.
- **Stride**: cell ``(r, k)`` of a stride-``s`` map covers input pixels ``[s*k, s*k + s)`` x
  ``[s*r, s*r + s)``, clipped to the input size. A DRN on an input of ``H x W`` gives
  ``ceil(H / 8) x ceil(W / 8)`` cells; a map larger than that (a padded batch) is cropped to the
  cells that cover the input.
- **Original image**: boxes are computed in input pixels and mapped back to the original image by
  :func:`box_to_original` with the resize / crop recorded by the test pipeline
  (:func:`geometry_from_metainfo`); ground-truth boxes never go through the pipeline.
"""
import math
from typing import Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

PROTOCOLS = ('paper', 'cam')
CAM_NORMALIZATIONS = ('max', 'minmax')
#: default threshold of each protocol: raw class-map value for 'paper', fraction of the maximum
#: for 'cam' (Zhou et al. use 20 % of the maximum)
DEFAULT_THRESHOLDS = {'paper': 0.0, 'cam': 0.2}

Size = Tuple[int, int]


def empty_box(device=None) -> torch.Tensor:
    """The empty box ``(0, 0, 0, 0)`` (area 0, IoU 0 with everything)."""
    return torch.zeros(4, dtype=torch.float32, device=device)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of (..., 4) boxes ``(x1, y1, x2, y2)``; degenerate boxes have area 0."""
    boxes = torch.as_tensor(boxes, dtype=torch.float32)
    width = (boxes[..., 2] - boxes[..., 0]).clamp(min=0)
    return width * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def box_iou(boxes1, boxes2) -> torch.Tensor:
    """Intersection over union of every pair of boxes.

    Args:
        boxes1: (N, 4) or (4,) boxes ``(x1, y1, x2, y2)``, continuous pixel coordinates.
        boxes2: (M, 4) or (4,) boxes.

    Returns:
        Tensor: (N, M) IoU (a (4,) argument counts as N = 1 or M = 1). A pair whose union has no
        area (two empty boxes) has IoU 0.
    """
    b1 = torch.as_tensor(boxes1, dtype=torch.float32).reshape(-1, 4)
    b2 = torch.as_tensor(boxes2, dtype=torch.float32).reshape(-1, 4)
    lt = torch.maximum(b1[:, None, :2], b2[None, :, :2])
    rb = torch.minimum(b1[:, None, 2:], b2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(b1)[:, None] + box_area(b2)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def _check_stride(stride) -> int:
    if not (isinstance(stride, (int, np.integer)) and stride >= 1):
        raise ValueError(f'stride={stride!r} must be a positive integer (8 for DRN, 32 for ResNet)')
    return int(stride)


def _input_size(map_hw: Size, stride: int, input_size: Optional[Sequence[int]]) -> Size:
    """(H, W) of the input; checks that the map covers it."""
    h, w = map_hw
    if input_size is None:
        return h * stride, w * stride
    if len(input_size) != 2:
        raise ValueError(f'input_size={tuple(input_size)} must be (H, W)')
    height, width = int(input_size[0]), int(input_size[1])
    if height < 1 or width < 1:
        raise ValueError(f'input_size={(height, width)} must be positive')
    need = (math.ceil(height / stride), math.ceil(width / stride))
    if need[0] > h or need[1] > w:
        raise ValueError(f'a class map of {h}x{w} cells at stride {stride} cannot cover an input '
                         f'of {height}x{width} pixels (needs {need[0]}x{need[1]} cells): wrong '
                         'stride or input size?')
    return height, width


def _class_list(classes, num_classes: int):
    if isinstance(classes, (int, np.integer)):
        classes = [classes]
    classes = [int(c) for c in classes]
    bad = [c for c in classes if not 0 <= c < num_classes]
    if bad:
        raise ValueError(f'classes {bad} out of range for a class map of {num_classes} classes')
    return classes


def _check_class_map(class_map):
    if not isinstance(class_map, torch.Tensor) or class_map.dim() != 3:
        raise ValueError('class_map must be a (C, h, w) tensor, got '
                         f'{getattr(class_map, "shape", type(class_map))}')


def box_from_mask(mask) -> torch.Tensor:
    """Smallest box ``(x1, y1, x2, y2)`` (exclusive ends) containing every True pixel of an
    (H, W) mask, in the mask's pixels; the empty box if the mask is all False."""
    mask = torch.as_tensor(mask, dtype=torch.bool)
    if mask.dim() != 2:
        raise ValueError(f'mask must be (H, W), got shape {tuple(mask.shape)}')
    rows = torch.nonzero(mask.any(dim=1)).flatten()
    cols = torch.nonzero(mask.any(dim=0)).flatten()
    if rows.numel() == 0:
        return empty_box(mask.device)
    return torch.tensor([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=torch.float32,
                        device=mask.device)


def boxes_from_class_map_paper(class_map: torch.Tensor, classes: Union[int, Sequence[int]],
                               threshold: float = DEFAULT_THRESHOLDS['paper'], stride: int = 8,
                               input_size: Optional[Sequence[int]] = None) -> torch.Tensor:
    """The paper's protocol: box of the cells where class ``c`` wins and its score exceeds ``t``.

    For each requested class ``c``: the cells where ``f(c)`` is the maximum over all classes
    (``g = argmax f == c``; a cell where several classes tie for the maximum counts for each of
    them) and ``f(c) > threshold`` (strictly); the box is the smallest one containing these cells,
    each cell covering its ``stride x stride`` input pixels, clipped to the input.

    Args:
        class_map (Tensor): (C, h, w) class map of one image (all classes: the argmax is over
            them), e.g. ``CAMHead.class_map`` or a data sample's ``pred_cam``.
        classes (int | Sequence[int]): class(es) to localize.
        threshold (float): activation threshold ``t`` on the raw class-map values.
        stride (int): pixels per cell (8 for DRN).
        input_size (Sequence[int], optional): (H, W) of the network input (without batch
            padding). Default: ``(h * stride, w * stride)``.

    Returns:
        Tensor: (K, 4) float boxes in input pixels, one per requested class; ``(0, 0, 0, 0)``
        where no cell qualifies.
    """
    stride = _check_stride(stride)
    _check_class_map(class_map)
    classes = _class_list(classes, class_map.shape[0])
    height, width = _input_size(class_map.shape[1:], stride, input_size)
    cm = class_map[:, :math.ceil(height / stride), :math.ceil(width / stride)].float()
    winner = cm.max(dim=0).values
    boxes = []
    for c in classes:
        cells = box_from_mask((cm[c] >= winner) & (cm[c] > threshold))
        if box_area(cells) == 0:
            boxes.append(cells)
            continue
        box = cells * stride
        box[2] = box[2].clamp(max=width)
        box[3] = box[3].clamp(max=height)
        boxes.append(box)
    if not boxes:
        return class_map.new_zeros((0, 4), dtype=torch.float32)
    return torch.stack(boxes)


def upsample_cam(cam: torch.Tensor, stride: int = 8,
                 input_size: Optional[Sequence[int]] = None) -> torch.Tensor:
    """(h, w) map at ``stride`` -> (H, W) map at input resolution.

    Bilinear upsampling by ``stride`` with ``align_corners=False`` (cell ``k``'s value lands at
    the centre of its pixels ``[s*k, s*k + s)``), then cropped to ``input_size``.
    """
    stride = _check_stride(stride)
    if not isinstance(cam, torch.Tensor) or cam.dim() != 2:
        raise ValueError(f'cam must be an (h, w) tensor, got {getattr(cam, "shape", type(cam))}')
    height, width = _input_size(cam.shape, stride, input_size)
    cam = cam.float()
    if stride > 1:
        cam = F.interpolate(cam[None, None], scale_factor=stride, mode='bilinear',
                            align_corners=False)[0, 0]
    return cam[:height, :width]


def largest_component(mask, scores=None, connectivity: int = 8) -> np.ndarray:
    """The largest connected component of a boolean (H, W) mask, as a mask.

    Ties in area go to the component holding the highest ``score`` (if given), then to the one
    that comes first in raster order (its top-most, then left-most pixel).

    Args:
        mask: (H, W) boolean array or tensor.
        scores: (H, W) values for the tie-break, optional.
        connectivity (int): 8 (diagonal neighbours connect) or 4.
    """
    import cv2

    if connectivity not in (4, 8):
        raise ValueError(f'connectivity={connectivity!r}: valid values are 4 and 8')
    mask = np.asarray(torch.as_tensor(mask).cpu(), dtype=np.uint8)
    if mask.ndim != 2:
        raise ValueError(f'mask must be (H, W), got shape {mask.shape}')
    count, labels = cv2.connectedComponents(mask, connectivity=connectivity, ltype=cv2.CV_32S)
    if count <= 1:
        return np.zeros(mask.shape, dtype=bool)
    flat = labels.ravel()
    area = np.bincount(flat, minlength=count)[1:]
    first = np.full(count, flat.size, dtype=np.int64)
    np.minimum.at(first, flat, np.arange(flat.size))
    peak = np.full(count, -np.inf)
    if scores is not None:
        np.maximum.at(peak, flat, np.asarray(torch.as_tensor(scores).cpu(), np.float64).ravel())
    # sort keys: larger area, higher peak, earlier first pixel (lexsort: last key is primary)
    order = np.lexsort((first[1:], -peak[1:], -area))
    return labels == order[0] + 1


def box_from_cam(cam: torch.Tensor, threshold: float = DEFAULT_THRESHOLDS['cam'], stride: int = 8,
                 input_size: Optional[Sequence[int]] = None, normalize: str = 'max',
                 connectivity: int = 8) -> torch.Tensor:
    """The common CAM protocol: threshold the upsampled map, box the largest component.

    The (h, w) map of one class is upsampled to the input (:func:`upsample_cam`); with
    ``normalize='max'`` the pixels with value ``>= threshold * max`` are kept (nothing is kept
    when the maximum is <= 0); with ``'minmax'`` the map is first scaled to [0, 1] by its minimum
    and maximum and the pixels ``>= threshold`` are kept (nothing when the map is constant). The
    box is the smallest one containing the largest connected component
    (:func:`largest_component`, ties to the higher peak, then the first in raster order).

    Args:
        cam (Tensor): (h, w) class map of one class.
        threshold (float): fraction in [0, 1].
        stride (int): pixels per cell (8 for DRN).
        input_size (Sequence[int], optional): (H, W) of the network input.
            Default ``(h * stride, w * stride)``.
        normalize (str): 'max' or 'minmax'.
        connectivity (int): 8 or 4.

    Returns:
        Tensor: (4,) box in input pixels; ``(0, 0, 0, 0)`` when nothing is kept.
    """
    if normalize not in CAM_NORMALIZATIONS:
        raise ValueError(f'normalize={normalize!r}: valid values are {CAM_NORMALIZATIONS}')
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f'threshold={threshold!r}: the CAM protocol thresholds at a fraction of '
                         'the maximum, in [0, 1]')
    up = upsample_cam(cam, stride, input_size)
    high, low = up.max(), up.min()
    if normalize == 'max':
        if high <= 0:
            return empty_box(cam.device)
        mask = up >= threshold * high
    else:
        if high <= low:
            return empty_box(cam.device)
        mask = (up - low) / (high - low) >= threshold
    component = largest_component(mask, up, connectivity)
    return box_from_mask(torch.from_numpy(component)).to(cam.device)


def localize(class_map: torch.Tensor, classes: Union[int, Sequence[int]], protocol: str = 'paper',
             threshold: Optional[float] = None, stride: int = 8,
             input_size: Optional[Sequence[int]] = None, **cam_kwargs) -> torch.Tensor:
    """Boxes of ``classes`` in input pixels with either protocol.

    Args:
        class_map (Tensor): (C, h, w) class map of one image.
        classes (int | Sequence[int]): class(es) to localize.
        protocol (str): 'paper' (:func:`boxes_from_class_map_paper`) or 'cam'
            (:func:`box_from_cam`).
        threshold (float, optional): default :data:`DEFAULT_THRESHOLDS` of the protocol.
        stride, input_size: as in the protocol functions.
        **cam_kwargs: ``normalize`` and ``connectivity`` of the CAM protocol.

    Returns:
        Tensor: (K, 4) boxes, one per class.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol={protocol!r}: valid protocols are {PROTOCOLS}')
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[protocol]
    if protocol == 'paper':
        if cam_kwargs:
            raise TypeError(f'the paper protocol takes no {sorted(cam_kwargs)}')
        return boxes_from_class_map_paper(class_map, classes, threshold, stride, input_size)
    _check_class_map(class_map)
    classes = _class_list(classes, class_map.shape[0])
    boxes = [
        box_from_cam(class_map[c], threshold, stride, input_size, **cam_kwargs) for c in classes
    ]
    return torch.stack(boxes) if boxes else class_map.new_zeros((0, 4), dtype=torch.float32)


class ImageGeometry(NamedTuple):
    """How input pixels relate to the original image: ``x_ori = (x_in + offset_x) / scale_x``.

    ``scale`` is input (resized) pixels per original pixel along x and y, ``offset`` the top-left
    corner of a crop taken after the resize, ``ori_shape`` the original (H, W).
    """
    ori_shape: Size
    scale: Tuple[float, float]
    offset: Tuple[float, float] = (0.0, 0.0)


def _pair(value, key) -> Tuple[float, float]:
    value = tuple(float(v) for v in np.asarray(value, dtype=np.float64).ravel())
    if len(value) != 2:
        raise ValueError(f'{key}={value} must have two entries')
    return value


def geometry_from_metainfo(meta: Mapping) -> ImageGeometry:
    """The input -> original mapping of one data sample, from what the test pipeline recorded.

    - A pipeline that only resizes (mmcv ``Resize``, mmpretrain ``ResizeEdge``) gives
      ``scale = img_shape / ori_shape`` per axis.
    - A crop must be :class:`~drn_mm.datasets.CenterCropWithOffset` (the last geometric step), which
      records ``crop_offset`` and the size before the crop (``pre_crop_shape``).

    Raises:
        KeyError: without ``ori_shape`` / ``img_shape``.
        ValueError: for a pipeline whose geometry cannot be inverted: a crop that recorded no
            offset (``img_shape`` differs from ``ori_shape x scale_factor``, or the size changed
            with no recorded ``scale_factor``), or a flipped image.
    """
    for key in ('ori_shape', 'img_shape'):
        if key not in meta:
            raise KeyError(f'data sample has no {key!r}: the test pipeline must end with '
                           'PackInputs keeping the default meta keys')
    ori_h, ori_w = _pair(meta['ori_shape'][:2], 'ori_shape')
    img_h, img_w = _pair(meta['img_shape'][:2], 'img_shape')
    where = meta.get('img_path', 'a data sample')
    if meta.get('flip', False):
        raise ValueError(f'{where}: flipped test images are not supported for localization; '
                         'remove RandomFlip from the test pipeline')
    if 'crop_offset' in meta:
        if 'pre_crop_shape' not in meta:
            raise KeyError(f'{where}: crop_offset without pre_crop_shape; use '
                           'CenterCropWithOffset and keep both in PackInputs meta_keys')
        pre_h, pre_w = _pair(meta['pre_crop_shape'][:2], 'pre_crop_shape')
        offset = _pair(meta['crop_offset'], 'crop_offset')
        return ImageGeometry((int(ori_h), int(ori_w)), (pre_w / ori_w, pre_h / ori_h), offset)
    if 'scale_factor' in meta:
        sx, sy = _pair(meta['scale_factor'], 'scale_factor')
        if abs(ori_w * sx - img_w) > 1 or abs(ori_h * sy - img_h) > 1:
            raise ValueError(
                f'{where}: img_shape {(int(img_h), int(img_w))} is not ori_shape '
                f'{(int(ori_h), int(ori_w))} x scale_factor {(sx, sy)}: the test pipeline crops '
                'or pads after resizing. Crop with CenterCropWithOffset (it records the offset) '
                'or resize the whole image (e.g. Resize(scale=(224, 224)))')
    elif (img_h, img_w) != (ori_h, ori_w):
        raise ValueError(f'{where}: the test pipeline changed the image size '
                         f'{(int(ori_h), int(ori_w))} -> {(int(img_h), int(img_w))} without '
                         'recording scale_factor; use Resize / ResizeEdge, then optionally '
                         'CenterCropWithOffset')
    return ImageGeometry((int(ori_h), int(ori_w)), (img_w / ori_w, img_h / ori_h))


def cams_to_original(cams: torch.Tensor, sample: Mapping, stride: int = 8) -> torch.Tensor:
    """Class maps (C, h, w) at ``stride`` -> (C, H, W) at the original image's pixels: each
    upsampled to the input (:func:`upsample_cam`), then resized to ``ori_shape``. Only for test
    pipelines that resize the whole image: a flip, a crop or an unrecorded size change is an
    error naming the image (the maps would not cover it)."""
    geometry_from_metainfo(sample)  # refuses flips and crops that recorded nothing
    if 'crop_offset' in sample:
        raise ValueError(f'{sample.get("img_path", "a data sample")} was cropped by the test '
                         'pipeline; maps at the original pixels need the whole image (resize '
                         'only)')
    img = tuple(int(v) for v in sample['img_shape'][:2])
    ori = tuple(int(v) for v in sample['ori_shape'][:2])
    up = torch.stack([upsample_cam(c, stride, img) for c in cams.detach().float().cpu()])
    if img != ori:
        up = F.interpolate(up[None], size=ori, mode='bilinear', align_corners=False)[0]
    return up


def box_to_original(boxes, geometry: ImageGeometry) -> torch.Tensor:
    """Map (..., 4) boxes from input pixels to original-image pixels, clipped to the image.

    Empty boxes stay ``(0, 0, 0, 0)``.
    """
    boxes = torch.as_tensor(boxes, dtype=torch.float32)
    (sx, sy), (ox, oy) = geometry.scale, geometry.offset
    ori_h, ori_w = geometry.ori_shape
    wide = boxes.double()  # float64 so that e.g. 64 / (64 / 60) comes back as 60
    shift = wide.new_tensor([ox, oy, ox, oy])
    scale = wide.new_tensor([sx, sy, sx, sy])
    limit = wide.new_tensor([ori_w, ori_h, ori_w, ori_h])
    mapped = torch.minimum(((wide + shift) / scale).clamp(min=0), limit).float()
    empty = box_area(boxes) == 0
    return torch.where(empty[..., None], torch.zeros_like(mapped), mapped)

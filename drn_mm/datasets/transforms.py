"""Test-time transforms that keep the way back to the original image.

Localization metrics compare boxes in original-image pixels (ground-truth boxes never go through
the pipeline), so a crop must say where it was taken: :class:`CenterCropWithOffset` records it.
"""
from typing import Sequence, Union

from mmcv.transforms import BaseTransform

from ..registry import register


@register('TRANSFORMS', ('mmpretrain', ))
class CenterCropWithOffset(BaseTransform):
    """Center crop that records where it cropped, for mapping predictions back.

    **Required keys:** ``img``. **Modified keys:** ``img``, ``img_shape``. **Added keys:**
    ``crop_offset`` (x, y) of the crop's top-left corner and ``pre_crop_shape`` (H, W) of the image
    it was cut from; keep both in ``PackInputs(meta_keys=...)``. An image smaller than the crop
    keeps its size along that axis (no padding).

    Use it as the last geometric step of a test pipeline (after ``Resize`` / ``ResizeEdge``):
    :func:`drn_mm.evaluation.localization.geometry_from_metainfo` then maps input pixels back with
    ``x_ori = (x_in + crop_x) * ori_w / pre_crop_w``.

    Args:
        crop_size (int | Sequence[int]): (width, height) of the crop, or one int for a square.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]]):
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        crop_size = tuple(crop_size)
        if len(crop_size) != 2 or not all(isinstance(s, int) and s > 0 for s in crop_size):
            raise ValueError(f'CenterCropWithOffset: crop_size={crop_size!r} must be a positive '
                             'int or (width, height)')
        self.crop_size = crop_size

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        crop_w, crop_h = min(self.crop_size[0], width), min(self.crop_size[1], height)
        x0, y0 = (width - crop_w) // 2, (height - crop_h) // 2
        results['img'] = img[y0:y0 + crop_h, x0:x0 + crop_w]
        results['img_shape'] = (crop_h, crop_w)
        results['crop_offset'] = (x0, y0)
        results['pre_crop_shape'] = (height, width)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size})'

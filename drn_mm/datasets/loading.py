"""Loading transforms that turn bad image and label files into errors naming the file.

Drop-in replacements for mmseg's first two pipeline steps (the drn_mm Cityscapes configs use
them)::

    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),   # ignore_index=255

:class:`LoadCheckedImageFromFile` decodes exactly as mmcv's ``LoadImageFromFile`` (OpenCV,
``color_type='color'``), so a normal 8-bit RGB file gives the same array, and every readable image
comes out as 8-bit, 3-channel (BGR, as mmseg pipelines expect; ``SegDataPreProcessor(bgr_to_rgb=
True)`` makes it RGB):

============================  ==============================================================
input                         what the model sees
============================  ==============================================================
grayscale (8 or 16 bit)       the gray value in all three channels
RGBA / gray + alpha           the colour channels; alpha is dropped (not composited)
palette (P mode PNG)          the palette colours
16-bit per channel            the high byte: ``value >> 8`` (0..65535 -> 0..255)
EXIF orientation (JPEG)       applied (the image is turned upright)
empty, truncated, corrupt     :class:`~drn_mm.datasets.checks.DataError` naming the file
============================  ==============================================================

:class:`LoadCheckedAnnotations` reads label maps as mmseg's ``LoadAnnotations`` does
(``reduce_zero_label`` and the data set's ``label_map`` included) and raises
:class:`~drn_mm.datasets.checks.DataError`, naming the label file, for: a missing, empty or
undecodable file; more than one channel (a colour-coded label image); values that do not fit
8 bits; a size other than the image's; values outside ``[0, num_classes)`` other than
``ignore_index``.
"""
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio

from ..registry import REGISTRY_MODULES, register
from .checks import DataError

__all__ = [
    'LoadCheckedImageFromFile', 'CheckSegLabels', 'find_truncation', 'label_map_to_class_indices',
    'check_label_size', 'check_label_values', 'check_lossless_label', 'exif_orientation'
]


def find_truncation(data: bytes) -> Optional[str]:
    """Why ``data`` (a file's bytes) is not a whole PNG or JPEG file, or None.

    A JPEG must end its last scan with an end-of-image marker (entropy-coded data cannot contain
    one); a PNG must close with its IEND chunk. Other formats are left to the decoder.
    """
    if not data:
        return 'the file is empty'
    if data[:2] == b'\xff\xd8' and data.rfind(b'\xff\xd9') < data.rfind(b'\xff\xda'):
        return 'JPEG without end-of-image marker after its last scan: truncated'
    if data[:8] == b'\x89PNG\r\n\x1a\n' and b'IEND' not in data[-1024:]:
        return 'PNG without IEND chunk: truncated'
    return None


def _read(path: str, what: str, backend_args, img_path: Optional[str] = None) -> bytes:
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        of = f' (for image {img_path})' if img_path else ''
        raise DataError(f'{what} file not found: {path}{of}') from None


def _decode(data: bytes, path: str, what: str, flag: str, backend: str) -> np.ndarray:
    reason = find_truncation(data)
    image = None
    if reason is None:
        try:
            image = mmcv.imfrombytes(data, flag=flag, backend=backend)
        except Exception as e:  # decoders raise many types for bad data
            reason = f'{type(e).__name__}: {e}'
        else:
            if image is None or image.size == 0:
                reason = 'the decoder cannot read it'
    if reason is None and data[:2] == b'\xff\xd8':
        reason = _jpeg_scan_error(data)
    if reason is not None:
        raise DataError(f'{what} {path} is corrupt or truncated ({reason}); replace the file or '
                        'remove it from the split')
    return image


def _jpeg_scan_error(data: bytes) -> Optional[str]:
    """Why libjpeg, through Pillow, refuses a JPEG's scan data, or None. OpenCV decodes damaged
    scan data into a picture with blocks of garbage and only prints a warning; Pillow raises.
    (A second decode of JPEG files only: the Cityscapes data is PNG.)"""
    import io

    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception as e:  # OSError: broken data stream ... Corrupt JPEG data: bad Huffman code
        return f'{type(e).__name__}: {e}'
    return None


def label_map_to_class_indices(seg: np.ndarray, path: str) -> np.ndarray:
    """A decoded label map as (H, W) uint8 class indices, or a :class:`DataError` naming
    ``path`` (several channels: a colour-coded image; values beyond 8 bits)."""
    if seg.ndim == 3 and seg.shape[2] == 1:
        seg = seg[..., 0]
    if seg.ndim != 2:
        raise DataError(f'label map {path} has shape {seg.shape}: expected one channel '
                        'of class indices (H, W), not a colour-coded image')
    if seg.dtype != np.uint8:
        if seg.dtype.kind not in 'ui' or seg.min() < 0 or seg.max() > 255:
            raise DataError(f'label map {path} ({seg.dtype}) has values up to '
                            f'{seg.max()}: class indices must fit 8 bits (0..255)')
        seg = seg.astype(np.uint8)
    return seg


def check_lossless_label(data: bytes, path: str) -> None:
    """A :class:`DataError` if a label file (its first bytes ``data``) is a JPEG: lossy
    compression changes class indices near every edge while the values mostly stay in range, so
    no value check catches it (a JPEG-saved Cityscapes label map had 15.7% of its pixels changed).
    """
    if data[:2] == b'\xff\xd8':
        raise DataError(f'label map {path} is a JPEG: lossy compression changes the class indices '
                        'near every edge (values stay in range, so nothing else catches it); '
                        'label maps must be lossless, e.g. PNG')


def check_label_size(seg: np.ndarray, path: str, results: dict) -> None:
    """A :class:`DataError` unless the label map has its image's size as read."""
    size = results.get('ori_shape')  # as read: TTA loads labels after resizing
    if size is None and results.get('img') is not None:
        size = results['img'].shape[:2]
    if size is not None and tuple(seg.shape) != tuple(size[:2]):
        raise DataError(f'label map {path} is {seg.shape[1]}x{seg.shape[0]} (WxH) but its image '
                        f'{results.get("img_path")} is {size[1]}x{size[0]}; they must be the same '
                        'size' + _exif_hint(results.get('img_path'), seg.shape, size))


def exif_orientation(path: Optional[str]) -> int:
    """The EXIF orientation tag of an image file (1 = upright; 0 when absent or unreadable)."""
    if not path or '://' in path or not osp.isfile(path):
        return 0
    try:
        from PIL import Image
        with Image.open(path) as image:
            return int(image.getexif().get(0x0112, 0))
    except Exception:  # not an image PIL reads: no EXIF to tell
        return 0


def _exif_hint(img_path, label_shape, image_shape) -> str:
    orientation = exif_orientation(img_path)
    if orientation in (5, 6, 7, 8) and tuple(label_shape) == tuple(image_shape[:2])[::-1]:
        return (f'. The image carries EXIF orientation {orientation} (a quarter turn): it is read '
                'turned upright, as mmcv reads every image, but label maps carry no EXIF. '
                'Save the photo upright (without the tag), or turn its label map the same way')
    return ''


def check_label_values(seg: np.ndarray, path: str, num_classes: Optional[int],
                       ignore_index: int = 255) -> None:
    """A :class:`DataError` naming ``path`` and the values if ``seg`` holds any outside
    ``[0, num_classes)`` other than ``ignore_index`` (e.g. Cityscapes' raw labelIds, 0..33, where
    the 19 trainIds belong). One ``bincount`` per map: about as cheap as reading it."""
    if num_classes is None:
        return
    present = np.flatnonzero(np.bincount(np.asarray(seg).ravel(), minlength=256))
    bad = [int(v) for v in present if v >= num_classes and v != ignore_index]
    if bad:
        raise DataError(f'label map {path} has values {bad[:10]} outside the classes; valid: '
                        f'0..{num_classes - 1} and {ignore_index} (ignored)')


def _check_num_classes(name: str, num_classes: Optional[int]) -> None:
    if num_classes is not None and not 0 < num_classes <= 256:
        raise ValueError(f'{name}: num_classes={num_classes}; valid: 1..256 (label maps hold '
                         '8-bit class indices)')


def _register(cls):
    return register('TRANSFORMS', ('mmseg', ))(cls)


@_register
class LoadCheckedImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments) that names the file of a truncated or
    corrupt image in a :class:`~drn_mm.datasets.checks.DataError` instead of failing later with
    ``NoneType`` errors or an assertion. Conversions: see :mod:`drn_mm.datasets.loading`.

    **Required keys:** ``img_path``. **Added keys:** ``img``, ``img_shape``, ``ori_shape``.
    """

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        data = _read(path, 'image', self.backend_args)
        img = _decode(data, path, 'image', self.color_type, self.imdecode_backend)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@_register
class CheckSegLabels:
    """Check the label map mmseg's ``LoadAnnotations`` read: a :class:`DataError` naming the file
    for values outside ``[0, num_classes)`` other than ``ignore_index``, or a size other than its
    image's. Put it right after ``LoadAnnotations`` in val/test pipelines: mmseg's inference APIs
    and ``MMSegInferencer`` find the loaders by their names (``LoadImageFromFile``,
    ``LoadAnnotations``) and drop the latter, and a sample without labels passes unchanged.

    Args:
        num_classes (int): Classes of the data set.
        ignore_index (int): The label of ignored pixels. Default 255.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255):
        _check_num_classes('CheckSegLabels', num_classes)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def __call__(self, results: dict) -> dict:
        seg = results.get('gt_seg_map')
        if seg is None:
            return results
        path = results.get('seg_map_path')
        if path and '://' not in path and osp.isfile(path):
            with open(path, 'rb') as f:
                check_lossless_label(f.read(2), path)
        check_label_size(seg, path, results)
        check_label_values(seg, path, self.num_classes, self.ignore_index)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


if 'mmseg' in REGISTRY_MODULES:  # LoadAnnotations is mmseg's
    from mmseg.datasets.transforms import LoadAnnotations

    @_register
    class LoadCheckedAnnotations(LoadAnnotations):
        """mmseg's ``LoadAnnotations`` that checks every label map it reads.

        Args:
            num_classes (int, optional): Classes of the data set; label values must lie in
                ``[0, num_classes)`` or equal ``ignore_index``. None: values are not checked.
            ignore_index (int): The label of ignored pixels. Default 255.
            **kwargs: ``LoadAnnotations`` arguments (``reduce_zero_label``, ``backend_args``,
                ``imdecode_backend``).

        Must come after the image is loaded (its size as read is compared). A sample without
        ``seg_map_path`` (``mmseg.apis.inference_model`` on an image) passes unchanged.

        **Required keys:** ``seg_map_path``, ``ori_shape`` (or ``img``), ``reduce_zero_label``,
        ``label_map`` (optional). **Added keys:** ``gt_seg_map``, ``seg_fields``.
        """

        def __init__(self, num_classes: Optional[int] = None, ignore_index: int = 255, **kwargs):
            super().__init__(**kwargs)
            _check_num_classes('LoadCheckedAnnotations', num_classes)
            self.num_classes = num_classes
            self.ignore_index = ignore_index

        def transform(self, results: dict) -> dict:
            if results.get('seg_map_path') is None:  # inference (mmseg.apis): no labels to read
                return results
            return super().transform(results)

        def _load_seg_map(self, results: dict) -> None:
            path = results['seg_map_path']
            data = _read(path, 'label', self.backend_args, results.get('img_path'))
            check_lossless_label(data, path)
            seg = _decode(data, path, 'label map', 'unchanged', self.imdecode_backend)
            seg = label_map_to_class_indices(seg, path)
            check_label_size(seg, path, results)
            if self.reduce_zero_label is None:
                self.reduce_zero_label = results['reduce_zero_label']
            if self.reduce_zero_label:  # 0 (background) -> ignored, k -> k - 1
                reduced = seg - 1
                reduced[(seg == 0) | (seg == 255)] = 255
                seg = reduced
            if results.get('label_map'):
                original = seg.copy()
                for old, new in results['label_map'].items():
                    seg[original == old] = new
            check_label_values(seg, path, self.num_classes, self.ignore_index)
            results['gt_seg_map'] = seg
            results['seg_fields'].append('gt_seg_map')

    __all__ += ['LoadCheckedAnnotations']

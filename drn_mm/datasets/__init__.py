"""What the Runner reads: checked loading of segmentation data (errors naming the file),
build-time split checks, in-memory data sets for timing the training loop and, with mmpretrain,
ImageNet val and CUB-200-2011 with their ground-truth boxes and a crop that records its offset.

The demo data generators are in :mod:`drn_mm.demo`.
"""
from ..registry import REGISTRY_MODULES
from .checks import DataError, check_seg_dataset
from .in_memory import InMemoryClsDataset, InMemoryDataset, InMemorySegDataset
from .loading import CheckSegLabels, LoadCheckedImageFromFile

__all__ = [
    'DataError', 'check_seg_dataset', 'CheckSegLabels', 'LoadCheckedImageFromFile',
    'InMemoryDataset', 'InMemorySegDataset', 'InMemoryClsDataset'
]

if 'mmpretrain' in REGISTRY_MODULES:
    from .cub import CUBLocalization  # noqa: F401
    from .imagenet_loc import ImageNetLocalization, parse_voc_boxes  # noqa: F401
    from .transforms import CenterCropWithOffset  # noqa: F401
    __all__ += [
        'CUBLocalization', 'ImageNetLocalization', 'parse_voc_boxes', 'CenterCropWithOffset'
    ]
if 'mmseg' in REGISTRY_MODULES:
    from .camvid import CamVidDataset  # noqa: F401
    from .loading import LoadCheckedAnnotations  # noqa: F401
    __all__ += ['CamVidDataset', 'LoadCheckedAnnotations']

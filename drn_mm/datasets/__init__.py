"""Data sets: a deterministic demo data set in the Cityscapes layout; with mmpretrain, ImageNet
val and CUB-200-2011 with their ground-truth boxes and a crop that records its offset.

``generate_demo_cityscapes`` is imported on first access, so that
``python -m drn_mm.datasets.demo_cityscapes`` runs the module without importing it twice.
"""
import importlib

from ..registry import REGISTRY_MODULES

__all__ = ['generate_demo_cityscapes']

if 'mmpretrain' in REGISTRY_MODULES:
    from .cub import CUBLocalization  # noqa: F401
    from .imagenet_loc import ImageNetLocalization, parse_voc_boxes  # noqa: F401
    from .transforms import CenterCropWithOffset  # noqa: F401
    __all__ += ['CUBLocalization', 'ImageNetLocalization', 'parse_voc_boxes',
                'CenterCropWithOffset']

# Checked loading of segmentation data (errors naming the file) and build-time split checks.
from .checks import DataError, check_seg_dataset  # noqa: E402
from .loading import LoadCheckedImageFromFile  # noqa: E402
__all__ += ['DataError', 'check_seg_dataset', 'LoadCheckedImageFromFile']
from .in_memory import InMemoryClsDataset, InMemoryDataset, InMemorySegDataset  # noqa: E402,F401
__all__ += ['InMemoryDataset', 'InMemorySegDataset', 'InMemoryClsDataset']
if 'mmseg' in REGISTRY_MODULES:
    from .loading import LoadCheckedAnnotations  # noqa: F401
    __all__ += ['LoadCheckedAnnotations']


def __getattr__(name):
    if name == 'generate_demo_cityscapes':
        return importlib.import_module('.demo_cityscapes', __name__).generate_demo_cityscapes
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(list(globals()) + __all__)

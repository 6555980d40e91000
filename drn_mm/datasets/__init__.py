"""Data sets: a deterministic demo data set in the Cityscapes layout.

``generate_demo_cityscapes`` is imported on first access, so that
``python -m drn_mm.datasets.demo_cityscapes`` runs the module without importing it twice.
"""
import importlib

__all__ = ['generate_demo_cityscapes']


def __getattr__(name):
    if name == 'generate_demo_cityscapes':
        return importlib.import_module('.demo_cityscapes', __name__).generate_demo_cityscapes
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(list(globals()) + __all__)

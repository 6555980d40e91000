"""Registration of drn_mm's modules into mmsegmentation's and mmpretrain's registries.

One class carries both registrations. If only one of the two libraries is installed (or one fails
to import, e.g. mmsegmentation's mmcv version check), drn_mm registers into the other and says so
in :data:`UNAVAILABLE`.
"""
import importlib
import warnings
from typing import Dict, List

LIBRARIES = ('mmseg', 'mmpretrain')

#: library name -> why it could not be used
UNAVAILABLE: Dict[str, str] = {}


def _load_registry_modules() -> Dict[str, object]:
    registries = {}
    for lib in LIBRARIES:
        try:
            registries[lib] = importlib.import_module(f'{lib}.registry')
        except ImportError as e:  # not installed
            UNAVAILABLE[lib] = f'{type(e).__name__}: {e}'
        except AssertionError as e:  # mmseg asserts its mmcv version at import
            UNAVAILABLE[lib] = f'{type(e).__name__}: {e}'
            warnings.warn(f'drn_mm: {lib} is installed but failed to import ({e}); drn_mm '
                          f'modules are not registered into {lib}')
    if not registries:
        raise ImportError('drn_mm needs mmsegmentation>=1.2 or mmpretrain>=1.2 (or both); '
                          f'neither is usable: {UNAVAILABLE}. Run tools/setup_env.sh.')
    return registries


#: library name -> its ``registry`` module (``mmseg.registry``, ``mmpretrain.registry``)
REGISTRY_MODULES = _load_registry_modules()
#: library name -> its ``MODELS`` registry
MODEL_REGISTRIES = {lib: module.MODELS for lib, module in REGISTRY_MODULES.items()}


def available_libraries() -> List[str]:
    return list(REGISTRY_MODULES)


def register(registry: str = 'MODELS', libraries=LIBRARIES):
    """Class decorator: register into ``registry`` (e.g. 'MODELS', 'RUNNERS', 'METRICS') of each
    available library among ``libraries``."""

    def wrap(cls):
        for lib in libraries:
            if lib in REGISTRY_MODULES:
                getattr(REGISTRY_MODULES[lib], registry).register_module(module=cls)
        return cls

    return wrap


def register_model(libraries=LIBRARIES):
    """Class decorator: register into the ``MODELS`` registry of each available library."""
    return register('MODELS', libraries)

"""drn_mm: Dilated Residual Networks for MMSegmentation and MMPretrain.

``import drn_mm`` registers every module into the ``MODELS`` registries of mmsegmentation and
mmpretrain (whichever are installed); configs do it with
``custom_imports=dict(imports=['drn_mm'], allow_failed_imports=False)``.

Packages: ``models`` (DRN, its layers and checkpoint layouts, neck, heads, segmentors),
``datasets`` (what the Runner reads), ``evaluation`` (metrics, box functions), ``engine``
(the checkpoint hook that carries drn_mm's guarantees, hooks, loops, optim wrappers,
distributed), ``apis`` (config -> model -> inference,
training, testing), ``deploy`` (BN folding, ONNX), ``visualization``, ``demo`` (data generators)
and ``benchmark`` (the speed harness; nothing else imports it).

``import drn_mm`` registers (modules into the registries, the ``drn://`` checkpoint scheme with
mmengine's ``CheckpointLoader.register_scheme``, the classifiers with mmpretrain's
``ModelHub.register_model_index``) and patches nothing.
"""
from . import datasets, engine, evaluation  # noqa: F401  (hooks, datasets, metrics)
from .apis import (convert_checkpoint_file, get_config, register_checkpoint_scheme,
                   register_mmpretrain_models)
from .models import *  # noqa: F401,F403
from .models import __all__ as _models_all
from .models.backbones.drn_checkpoint import convert_drn_state_dict, load_backbone_checkpoint
from .models.utils import CheckpointError, CheckpointMismatchError
from .registry import available_libraries
from .version import __version__

# Registration through the public APIs, as every OpenMMLab plugin does; nothing of another
# library is changed (tests/test_package/test_import_isolation.py):
register_checkpoint_scheme()  # 'drn://FILE': the authors' files anywhere a checkpoint is named
register_mmpretrain_models()  # list_models('*drn*'), get_model('drn-c-26_3rdparty_in1k')

__all__ = [
    '__version__', 'available_libraries', 'CheckpointError', 'CheckpointMismatchError',
    'convert_drn_state_dict', 'convert_checkpoint_file', 'get_config', 'load_backbone_checkpoint'
]
__all__ += _models_all

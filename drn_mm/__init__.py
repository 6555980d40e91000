"""drn_mm: Dilated Residual Networks for MMSegmentation and MMPretrain.

``import drn_mm`` registers every module into the ``MODELS`` registries of mmsegmentation and
mmpretrain (whichever are installed); configs do it with
``custom_imports=dict(imports=['drn_mm'], allow_failed_imports=False)``.
"""
from . import compat  # noqa: F401  (torch.load of mmengine checkpoints on torch >= 2.6)
from .checkpoint import (CheckpointError, CheckpointMismatchError, convert_checkpoint_file,
                         convert_drn_state_dict, load_backbone_checkpoint)
from . import engine  # noqa: F401  (DRNRunner)
from . import datasets, evaluation  # noqa: F401  (boxes datasets, LocalizationMetric)
from .models import *  # noqa: F401,F403
from .models import __all__ as _models_all
from .registry import available_libraries
from .version import __version__

__all__ = [
    '__version__', 'available_libraries', 'CheckpointError', 'CheckpointMismatchError',
    'convert_drn_state_dict', 'convert_checkpoint_file', 'load_backbone_checkpoint'
] + list(_models_all)

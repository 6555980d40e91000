"""The training engine: DRNRunner, hooks, loops, optim wrappers, distributed CPU runs, and the one
atomic-write helper."""
from ..registry import REGISTRY_MODULES
from .atomic import atomic_write, write_text_atomic
from .checkpoint_hook import DRNCheckpointHook, find_resumable_checkpoint
from .distributed import AverageLossOverRanksHook, CPUSyncBatchNorm
from .hooks import ChannelsLastHook, to_channels_last
from .loops import AmpTestLoop, AmpValLoop, amp_dtype
from .optim import BF16OptimWrapper, set_mixed_precision
from .runner import DRNRunner

__all__ = [
    'atomic_write', 'write_text_atomic', 'DRNCheckpointHook', 'find_resumable_checkpoint',
    'AverageLossOverRanksHook', 'CPUSyncBatchNorm', 'ChannelsLastHook', 'to_channels_last',
    'AmpTestLoop', 'AmpValLoop', 'amp_dtype', 'BF16OptimWrapper', 'set_mixed_precision', 'DRNRunner'
]

if 'mmseg' in REGISTRY_MODULES:
    from .precision_hook import InferencePrecisionHook  # noqa: F401
    from .visualization import DRNSegVisualizationHook  # noqa: F401
    __all__ += ['DRNSegVisualizationHook', 'InferencePrecisionHook']

"""The training engine, on mmengine's own Runner: DRNCheckpointHook (drn_mm's guarantees, in the
config's checkpoint slot), hooks, loops, optim wrappers, distributed CPU runs, and the one
atomic-write helper."""
from ..registry import REGISTRY_MODULES
from .atomic import atomic_write, write_text_atomic
from .checkpoint_hook import DRNCheckpointHook, find_resumable_checkpoint
from .distributed import AverageLossOverRanksHook, CPUDistributedDataParallel, CPUSyncBatchNorm
from .file_backend import AtomicLocalBackend
from .hooks import ChannelsLastHook, to_channels_last
from .loops import AmpTestLoop, AmpValLoop, amp_dtype
from .model_dtype import ModelDtypeHook
from .optim import BF16OptimWrapper, set_mixed_precision

__all__ = [
    'atomic_write', 'write_text_atomic', 'DRNCheckpointHook', 'find_resumable_checkpoint',
    'AverageLossOverRanksHook', 'CPUDistributedDataParallel', 'CPUSyncBatchNorm',
    'AtomicLocalBackend', 'ChannelsLastHook', 'to_channels_last', 'AmpTestLoop', 'AmpValLoop',
    'amp_dtype', 'ModelDtypeHook', 'BF16OptimWrapper', 'set_mixed_precision'
]

if 'mmseg' in REGISTRY_MODULES:
    from .precision_hook import InferencePrecisionHook  # noqa: F401
    from .visualization import DRNSegVisualizationHook  # noqa: F401
    __all__ += ['DRNSegVisualizationHook', 'InferencePrecisionHook']

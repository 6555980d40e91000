from .hooks import ChannelsLastHook, to_channels_last
from .loops import AmpTestLoop, AmpValLoop, amp_dtype
from .optim import BF16OptimWrapper, set_mixed_precision
from .runner import DRNRunner
from .checkpoint_hook import DRNCheckpointHook, find_resumable_checkpoint
from .distributed import AverageLossOverRanksHook, CPUSyncBatchNorm

__all__ = ['DRNRunner', 'ChannelsLastHook', 'to_channels_last', 'AmpValLoop', 'AmpTestLoop',
           'amp_dtype', 'BF16OptimWrapper']
__all__ += ['DRNCheckpointHook', 'find_resumable_checkpoint', 'AverageLossOverRanksHook',
            'CPUSyncBatchNorm']

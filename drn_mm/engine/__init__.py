from .hooks import ChannelsLastHook, to_channels_last
from .loops import AmpTestLoop, AmpValLoop, amp_dtype
from .optim import BF16OptimWrapper
from .runner import DRNRunner

__all__ = ['DRNRunner', 'ChannelsLastHook', 'to_channels_last', 'AmpValLoop', 'AmpTestLoop',
           'amp_dtype', 'BF16OptimWrapper']

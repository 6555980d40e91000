from ..registry import MODEL_REGISTRIES
from .backbones import ARCH_SETTINGS, DRN
from .layers import BasicBlock, Bottleneck
from .necks import DegriddingNeck

__all__ = ['DRN', 'ARCH_SETTINGS', 'BasicBlock', 'Bottleneck', 'DegriddingNeck']

if 'mmseg' in MODEL_REGISTRIES:
    from .decode_heads import DRNSegHead  # noqa: F401
    from .segmentors import DRNTTAModel  # noqa: F401
    __all__ += ['DRNSegHead', 'DRNTTAModel']
if 'mmpretrain' in MODEL_REGISTRIES:
    from .heads import CAMHead  # noqa: F401
    __all__ += ['CAMHead']

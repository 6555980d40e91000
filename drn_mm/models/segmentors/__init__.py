from .drn_tta import DRNTTAModel

__all__ = ['DRNTTAModel']

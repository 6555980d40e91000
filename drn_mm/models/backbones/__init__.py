from .drn import ARCH_SETTINGS, DRN

__all__ = ['DRN', 'ARCH_SETTINGS']

from .drn_seg_head import DRNSegHead, bilinear_kernel

__all__ = ['DRNSegHead', 'bilinear_kernel']

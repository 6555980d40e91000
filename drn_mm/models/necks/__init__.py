from .degridding_neck import DegriddingNeck

__all__ = ['DegriddingNeck']

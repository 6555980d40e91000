from .runner import DRNRunner

__all__ = ['DRNRunner']

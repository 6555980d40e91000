"""Evaluation: weakly-supervised localization metrics (registered into mmpretrain's METRICS)."""
from ..registry import REGISTRY_MODULES

__all__ = []

if 'mmpretrain' in REGISTRY_MODULES:
    from .localization_metric import LocalizationMetric  # noqa: F401
    __all__ += ['LocalizationMetric']

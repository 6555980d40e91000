"""Analyses of trained and untrained networks: gridding (:mod:`drn_mm.analysis.gridding`)."""
from .gridding import (Level, erf_energy, feature_levels, lattice_score, measure_gridding,
                       spectral_score)

__all__ = [
    'Level', 'feature_levels', 'erf_energy', 'lattice_score', 'spectral_score', 'measure_gridding'
]

"""Gridding, measured: how much of a network's response sits on the lattice of a dilation period.

Two measures (docs/en/gridding.md defines them, says why they are scale-free and gives their
ranges):

- :func:`lattice_score` of an effective receptive field (ERF, :func:`erf_energy`): the energy of
  the gradient of one output unit with respect to an earlier map (the input, or the last level
  before dilation), the fraction of it on the best of the ``d x d`` sub-lattices of period ``d``,
  rescaled so that an even spread is 0 and all energy on one sub-lattice (a map with holes) is 1:
  ``(d^2 * max_phase_fraction - 1) / (d^2 - 1)``, in [0, 1].
- :func:`spectral_score` of activations on images: the energy of the feature maps at the spatial
  frequencies of the period ``d`` (within a quarter step of ``(k/d, l/d)`` cycles per cell) in
  excess of what neighbouring frequencies (the same distance from 0, off those bands) have, as a
  share of the maps' energy: 0 for no periodic component, up to 1 for a pure grid.

:func:`feature_levels` names the levels of any backbone drn_mm or mmseg/mmpretrain builds (DRN-A/B/
C/D, the ResNets, a :class:`~drn_mm.models.necks.DegriddingNeck` after them) with their stride and
dilation; :func:`measure_gridding` runs both measures level by level on a model and images.
"""
import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

__all__ = [
    'Level', 'feature_levels', 'erf_energy', 'lattice_score', 'spectral_score', 'capture_levels',
    'measure_gridding'
]


@dataclass
class Level:
    """One level of a backbone (or neck): its module, qualified name, stride and dilation."""
    name: str
    module: nn.Module
    stride: int
    dilation: int


def _resnet_levels(backbone, prefix) -> List[Level]:
    levels = []
    stem_stride = 4  # conv1 (or the deep stem) stride 2, then max pooling
    stride = stem_stride
    for i, name in enumerate(backbone.res_layers):
        stride *= backbone.strides[i]
        levels.append(
            Level(f'{prefix}{name}', getattr(backbone, name), stride, backbone.dilations[i]))
    return levels


def feature_levels(model: nn.Module) -> List[Level]:
    """The levels of ``model``'s backbone (and :class:`DegriddingNeck`, if any), input to output.

    ``model`` is a segmentor or classifier (``.backbone``), or a backbone. Known backbones:
    drn_mm's DRN (levels ``layer1``..``layer8``; dilation of each from its arch) and the ResNets of
    mmseg and mmpretrain (``layer1``..``layer4``: ``res_layers``, ``strides``, ``dilations``).
    Anything else raises a TypeError naming the class.
    """
    from ..models.backbones.drn import DRN
    from ..models.necks.degridding_neck import DegriddingNeck

    backbone = getattr(model, 'backbone', model)
    prefix = 'backbone.' if backbone is not model else ''
    if isinstance(backbone, DRN):
        levels = [
            Level(f'{prefix}{name}', getattr(backbone, name), backbone.level_strides[i],
                  backbone.traits.geometry[i].dilation)
            for i, name in enumerate(backbone.level_names)
        ]
    elif hasattr(backbone, 'res_layers') and hasattr(backbone, 'dilations'):
        levels = _resnet_levels(backbone, prefix)
    else:
        raise TypeError(f'feature_levels: {type(backbone).__name__} is not a DRN or a ResNet of '
                        'mmseg / mmpretrain; gridding levels are known for those')
    neck = getattr(model, 'neck', None)
    if isinstance(neck, DegriddingNeck):
        stride = levels[-1].stride
        for i, (layer, dilation) in enumerate(zip(neck.layers, neck.dilations)):
            levels.append(Level(f'neck.layers.{i}', layer, stride, dilation))
    return levels


def lattice_score(energy: torch.Tensor, period: int) -> float:
    """How much of a non-negative 2-D ``energy`` map lies on one sub-lattice of ``period``.

    The map's cells are split into the ``period**2`` sub-lattices ``{(i, j): i = a, j = b mod
    period}``; with ``f`` the largest fraction of the total energy on one of them, the score is
    ``(period**2 * f - 1) / (period**2 - 1)``: 0 when every sub-lattice holds the same energy (an
    ERF without holes), 1 when all of it is on one (a dilated conv's lattice). Multiplying the map
    by a constant, or shifting it, does not change the score.
    """
    if period < 2:
        raise ValueError(f'period={period}: a lattice needs a period >= 2')
    energy = energy.double()
    total = energy.sum()
    if not total > 0:
        raise ValueError('lattice_score: the energy map is all zero (the output does not depend '
                         'on this input)')
    h, w = energy.shape
    phases = torch.stack([
        energy[a::period, b::period].sum() for a in range(min(period, h))
        for b in range(min(period, w))
    ])
    n = period * period
    return float((n * phases.max() / total - 1) / (n - 1))


def _circular_distance(freqs: torch.Tensor, centre: float) -> torch.Tensor:
    d = (freqs - centre) % 1.0
    return torch.minimum(d, 1.0 - d)


def spectral_score(features: torch.Tensor, period: int) -> float:
    """The share of the energy of ``features`` that sits, in excess, at the frequencies of
    ``period``.

    ``features`` is (C, H, W) or (N, C, H, W). The power spectrum of each map less its mean is
    averaged over maps. Around every frequency of the period, ``f = (k / period, l / period)``
    cycles per cell other than 0, the *peak band* holds the frequencies within ``1 / (4 period)``
    of ``f`` (a quarter of the spacing of those frequencies); its *neighbours* are the other
    frequencies at the same distance from 0 (within the same ``1 / (4 period)``) that are in no
    peak band, so a spectrum falling off with frequency does not count. The excess of a band is
    its energy less what its neighbours' mean density would put there; the score is the sum of
    the excesses over the maps' energy: 0 where nothing repeats with the period (a smooth
    spectrum), up to 1 where all of the energy does (a grid); slightly negative values are
    noise. Maps need at least ``8 * period`` cells a side (a peak band of one frequency step).
    """
    if period < 2:
        raise ValueError(f'period={period}: a lattice needs a period >= 2')
    x = features.double()
    x = x.reshape(-1, *x.shape[-2:])
    h, w = x.shape[-2:]
    if min(h, w) < 8 * period:
        raise ValueError(f'spectral_score: maps of {h}x{w} cells are too small for period '
                         f'{period}: they need {8 * period} cells a side (use larger images)')
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).mean(0)
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    radius = torch.sqrt(fy**2 + fx**2)
    rho = 1.0 / (4 * period)
    bands = []
    for k in range(period):
        for m in range(period):
            if k or m:
                fk, fm = (k / period + 0.5) % 1 - 0.5, (m / period + 0.5) % 1 - 0.5
                dist = torch.maximum(_circular_distance(fy, fk), _circular_distance(fx, fm))
                bands.append((dist <= rho, math.hypot(fk, fm)))
    on_lattice = torch.stack([band for band, _ in bands]).any(0)
    excess = 0.0
    for band, r in bands:
        ring = ((radius - r).abs() <= rho) & ~on_lattice  # same distance from 0, off the lattice
        if not ring.any():
            raise ValueError(f'spectral_score: maps of {h}x{w} cells have no frequencies beside '
                             f'those of period {period} at radius {r:.3f}')
        excess = excess + power[band].sum() - power[ring].mean() * band.sum()
    total = power.sum()  # the maps' means are removed: no power at frequency 0
    if not total > 0:
        return 0.0  # constant maps: nothing can repeat
    return float(excess / total)


class capture_levels:
    """Context manager: the outputs of ``levels`` (a list of :class:`Level`) in ``outputs``
    (name -> tensor), and optionally the output of the level named ``source`` replaced by a leaf
    tensor that requires grad (``self.source``), so gradients with respect to it can be taken."""

    def __init__(self, levels: Sequence[Level], source: Optional[str] = None):
        self.levels, self.source_name = levels, source
        self.outputs: Dict[str, torch.Tensor] = {}
        self.source: Optional[torch.Tensor] = None
        self.handles = []

    def __enter__(self):
        for level in self.levels:
            self.handles.append(level.module.register_forward_hook(self._hook(level.name)))
        return self

    def _hook(self, name):

        def hook(module, args, output):
            if name == self.source_name:
                output = output.detach().requires_grad_(True)
                self.source = output
            self.outputs[name] = output
            return output

        return hook

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def erf_energy(forward: Callable[[torch.Tensor],
                                 object], images: torch.Tensor, levels: Sequence[Level],
               targets: Sequence[str], source: Optional[str] = None) -> Dict[str, torch.Tensor]:
    """Effective receptive fields: for each level in ``targets``, the energy (sum over channels
    of the squared gradient, summed over ``images``) of its centre unit (the sum of its channels at
    the centre cell) with respect to ``source`` (a level's output, or the input when None), an
    (H, W) map at the source's resolution. ``forward(images)`` runs the network."""
    energies = {}
    with capture_levels(levels, source) as cap:
        x = images.detach().clone().requires_grad_(source is None)
        with torch.enable_grad():
            forward(x)
            wrt = x if source is None else cap.source
            if wrt is None:
                raise ValueError(f'erf_energy: source {source!r} is not among the levels run')
            for name in targets:
                out = cap.outputs[name]
                h, w = out.shape[-2:]
                unit = out[:, :, h // 2, w // 2].sum()
                grad, = torch.autograd.grad(unit, wrt, retain_graph=True)
                energies[name] = grad.double().pow(2).sum(dim=(0, 1)).detach()
    return energies


def _run_features(model: nn.Module):
    """The forward of ``model``'s feature extractor (backbone and neck)."""
    if hasattr(model, 'extract_feat'):
        return model.extract_feat
    return model


def measure_gridding(model: nn.Module, images: torch.Tensor, periods: Sequence[int] = (2, 4),
                     source: Optional[str] = 'auto') -> List[Dict[str, object]]:
    """Both gridding measures, level by level, for ``model`` (in eval mode) on ``images``
    (normalized, (N, 3, H, W)).

    ``source``: the map ERFs are taken against: ``'auto'`` (the level before the first dilated
    one: DRN level 4, ResNet layer 2 for output stride 8), ``None`` (the input image) or a level
    name at the same resolution as the levels after it (else a ValueError). Each row:
    ``level``, ``stride``, ``dilation``, ``erf_lattice``
    ({period: score}: against a level, of the ERF without its centre cell
    (:func:`surround_lattice_score`; None when only the centre has energy), with
    ``erf_centre_share`` (:func:`centre_share`); against the image, of the whole ERF with the
    periods multiplied by the level's stride), ``spectral`` ({period: share}, from the
    activations), for the levels after the source.
    """
    levels = feature_levels(model)
    if source == 'auto':
        first_dilated = next((i for i, lv in enumerate(levels) if lv.dilation > 1), None)
        if not first_dilated:  # None (nothing dilated) or 0 (nothing before it)
            raise ValueError(f"measure_gridding: source='auto' is the level before the first "
                             f'dilated one, and {type(model).__name__} has none; give a level '
                             'name or None (the input)')
        source = levels[first_dilated - 1].name
    names = [lv.name for lv in levels]
    start = names.index(source) + 1 if source is not None else 0
    targets = levels[start:]
    forward = _run_features(model)
    energies = erf_energy(forward, images, levels, [lv.name for lv in targets], source)
    with torch.no_grad(), capture_levels(levels) as cap:
        forward(images)
    rows = []
    for lv in targets:
        energy = energies[lv.name]
        row = dict(level=lv.name, stride=lv.stride, dilation=lv.dilation, source=source or 'input',
                   spectral={p: spectral_score(cap.outputs[lv.name], p)
                             for p in periods})
        if source is None:  # against the image: periods in pixels
            row['erf_lattice'] = {p: lattice_score(energy, p * lv.stride) for p in periods}
        else:
            if tuple(energy.shape) != tuple(cap.outputs[lv.name].shape[-2:]):
                raise ValueError(f'measure_gridding: source {source} is at another resolution '
                                 f'({tuple(energy.shape)}) than {lv.name} '
                                 f'({tuple(cap.outputs[lv.name].shape[-2:])}): its centre cell '
                                 'and lattice would not be the unit\'s; give a level at the same '
                                 'stride or None (the input)')
            row['erf_centre_share'] = centre_share(energy)
            row['erf_lattice'] = {p: surround_lattice_score(energy, p) for p in periods}
        rows.append(row)
    return rows


def centre_share(energy: torch.Tensor) -> float:
    """The share of an ERF's energy on its centre cell (the unit's own cell at the source)."""
    h, w = energy.shape
    total = energy.double().sum()
    return float(energy[h // 2, w // 2] / total) if total > 0 else float('nan')


def surround_lattice_score(energy: torch.Tensor, period: int) -> Optional[float]:
    """:func:`lattice_score` of an ERF without its centre cell, or None when nothing but the
    centre has energy. An identity shortcut puts much of a unit's ERF on its own cell, which is
    on every sub-lattice: left in, it would score a unit that sees little around it as gridded;
    the holes are in the surround."""
    h, w = energy.shape
    surround = energy.double().clone()
    surround[h // 2, w // 2] = 0
    if not surround.sum() > surround.new_tensor(0):
        return None
    return lattice_score(surround, period)

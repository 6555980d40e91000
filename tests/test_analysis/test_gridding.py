"""Gridding measures (drn_mm.analysis.gridding): hand-made maps with known scores, constructed conv
stacks with known answers (a d=4 stack on a delta: holes; a dense stack: none; a d=2 then d=1
stack after it, the degridding levels: fewer), the levels of each backbone, DRN's structure, and
tools/analyze_gridding.py end to end. All in float64."""
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn
from tool_runs import REPO, run_tool

from drn_mm.analysis.gridding import (centre_share, erf_energy, feature_levels, lattice_score,
                                      measure_gridding, spectral_score, surround_lattice_score)
from drn_mm.apis import build_model, read_config

DEMO = osp.join(REPO, 'configs', 'demo', 'drn_d_22_demo_cityscapes-128x256.py')
EXPERIMENTS = osp.join(REPO, 'configs', 'experiments')


# ------------------------------------------------------------------------ hand-made maps
def test_lattice_score_of_hand_made_maps():
    one_phase = torch.zeros(16, 16, dtype=torch.float64)
    one_phase[1::4, 3::4] = torch.rand(4, 4, dtype=torch.float64) + 0.5
    assert lattice_score(one_phase, 4) == pytest.approx(1.0, abs=1e-12)
    assert lattice_score(one_phase, 2) == pytest.approx(1.0, abs=1e-12)  # a sub-lattice of d=2
    uniform = torch.ones(16, 16, dtype=torch.float64)
    assert lattice_score(uniform, 4) == pytest.approx(0.0, abs=1e-12)
    # half of the energy on one phase of d=2, the rest spread evenly: f = 1/2 + 1/2 * 1/4
    half = torch.ones(8, 8, dtype=torch.float64)
    half[::2, ::2] += 3.0  # phase (0, 0): 16 cells x 4, the others 48 cells x 1
    f = 64 / 112
    assert lattice_score(half, 2) == pytest.approx((4 * f - 1) / 3, abs=1e-12)
    # scale-free and shift-free
    assert lattice_score(half * 1e6, 2) == pytest.approx(lattice_score(half, 2), abs=1e-12)
    shifted = torch.roll(half, shifts=(1, 1), dims=(0, 1))
    assert lattice_score(shifted, 2) == pytest.approx(lattice_score(half, 2), abs=1e-12)
    with pytest.raises(ValueError, match='all zero'):
        lattice_score(torch.zeros(8, 8), 2)
    with pytest.raises(ValueError, match='period'):
        lattice_score(uniform, 1)


def test_the_centre_cell_is_left_out_of_the_surround():
    """An identity shortcut puts energy on the unit's own cell, which is on every sub-lattice:
    the surround score leaves it out; a centre-only ERF has no surround (None)."""
    energy = torch.zeros(9, 9, dtype=torch.float64)
    energy[4, 4] = 10.0
    assert surround_lattice_score(energy, 2) is None
    assert centre_share(energy) == 1.0
    assert lattice_score(energy, 2) == 1.0  # with the centre: 'all on one lattice'
    energy[4, 6] = energy[2, 4] = 1.0  # two cells on the centre's even lattice
    assert surround_lattice_score(energy, 2) == pytest.approx(1.0, abs=1e-12)
    assert centre_share(energy) == pytest.approx(10 / 12)
    energy[4, 5] = energy[3, 4] = 1.0  # and two off it: the surround spreads over 3 phases
    f = 2 / 4
    assert surround_lattice_score(energy, 2) == pytest.approx((4 * f - 1) / 3, abs=1e-12)


def test_spectral_score_of_hand_made_maps():
    g = torch.Generator().manual_seed(0)
    grid = torch.zeros(3, 64, 64, dtype=torch.float64)
    grid[:, ::4, ::4] = 1.0  # a pure period-4 grid of dots
    assert spectral_score(grid, 4) > 0.9
    assert spectral_score(grid * 1e-3, 4) == pytest.approx(spectral_score(grid, 4), abs=1e-12)
    smooth = torch.nn.functional.interpolate(
        torch.randn(1, 3, 8, 8, generator=g, dtype=torch.float64), size=(64, 64), mode='bilinear',
        align_corners=False)[0]
    assert abs(spectral_score(smooth, 4)) < 0.02
    noise = torch.randn(8, 64, 64, generator=g, dtype=torch.float64)
    assert abs(spectral_score(noise, 4)) < 0.05
    assert spectral_score(torch.ones(2, 64, 64), 4) == 0.0  # constant: nothing repeats
    with pytest.raises(ValueError, match='too small'):
        spectral_score(grid[:, :16, :16], 4)


# ------------------------------------------------------------------ constructed conv stacks
def _stack(dilations, channels=8, seed=0, positive=False, relu=False):
    torch.manual_seed(seed)
    layers = []
    for d in dilations:
        conv = nn.Conv2d(channels, channels, 3, padding=d, dilation=d, bias=False)
        if positive:
            nn.init.uniform_(conv.weight, 0.0, 1.0)
        else:
            nn.init.normal_(conv.weight)
        layers.append(conv)
        if relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).double()


def _erf(net, size=64, channels=8):
    """ERF energy of the centre unit of a (linear) stack with respect to its input: the same for
    any input; here a delta."""
    x = torch.zeros(1, channels, size, size, dtype=torch.float64)
    x[..., size // 2, size // 2] = 1.0
    levels = [type('L', (), dict(name='out', module=net))()]
    return erf_energy(net, x, levels, ['out'], source=None)['out']


def _delta_response(net, size=128, channels=8):
    x = torch.zeros(1, channels, size, size, dtype=torch.float64)
    x[..., size // 2, size // 2] = 1.0
    with torch.no_grad():
        return net(x)[0]


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_erf_lattice_score_of_constructed_stacks(seed):
    d4 = _erf(_stack([4, 4, 4], seed=seed))
    dense = _erf(_stack([1] * 6, seed=seed))
    degridded = _erf(_stack([4, 4, 4, 2, 1], seed=seed))
    # every path through d=4 convs lands on the centre's lattice: holes, score 1
    assert lattice_score(d4, 4) == pytest.approx(1.0, abs=1e-12)
    assert lattice_score(d4, 2) == pytest.approx(1.0, abs=1e-12)
    # a dense stack: energy spread over all phases (about 0; measured 0.02-0.07)
    assert lattice_score(dense, 4) < 0.1 and lattice_score(dense, 2) < 0.1
    # d=2 then d=1 after the d=4 stack (DRN's levels 7-8) lowers it (measured 0.07-0.11 / 0.18-0.25)
    assert lattice_score(degridded, 4) < 0.2
    assert lattice_score(degridded, 2) < 0.5


def test_spectral_score_of_constructed_stacks():
    """Activations of a delta through non-negative filters (what ReLU features are): the d=4
    stack replicates it on a lattice, a dense stack blurs it, d=2 then d=1 fill the holes."""
    d4 = spectral_score(_delta_response(_stack([4, 4, 4], positive=True)), 4)
    dense = spectral_score(_delta_response(_stack([1] * 6, positive=True)), 4)
    degridded = spectral_score(_delta_response(_stack([4, 4, 4, 2, 1], positive=True)), 4)
    print(f'spectral d=4: d4 stack {d4:.3f}, dense {dense:.3f}, degridded {degridded:.3f}')
    assert d4 > 0.8  # measured 0.94
    assert abs(dense) < 0.02  # measured 0.00
    assert degridded < d4 / 2  # measured 0.23


# --------------------------------------------------------------------- levels of backbones
def test_feature_levels_of_drn_resnet_and_neck():
    d22 = build_model(read_config(DEMO))
    levels = feature_levels(d22)
    assert [lv.name for lv in levels] == [f'backbone.layer{i}' for i in range(1, 9)]
    assert [lv.dilation for lv in levels] == [1, 1, 1, 1, 2, 4, 2, 1]
    assert [lv.stride for lv in levels] == [1, 2, 4, 8, 8, 8, 8, 8]
    a18 = build_model(read_config(osp.join(EXPERIMENTS, 'drn_a_18_demo-128x256.py')))
    assert [(lv.stride, lv.dilation) for lv in feature_levels(a18)] == [(4, 1), (8, 1), (8, 2),
                                                                        (8, 4)]
    v1c = build_model(read_config(osp.join(EXPERIMENTS, 'resnetv1c_18-d8_demo-128x256.py')))
    assert [(lv.name, lv.stride, lv.dilation)
            for lv in feature_levels(v1c)] == [('backbone.layer1', 4, 1), ('backbone.layer2', 8, 1),
                                               ('backbone.layer3', 8, 2), ('backbone.layer4', 8, 4)]
    # a DegriddingNeck after the dilated ResNet: its levels follow, at the same stride
    cfg = read_config(osp.join(EXPERIMENTS, 'resnetv1c_18-d8_demo-128x256.py'))
    cfg.model.neck = dict(type='DegriddingNeck', in_channels=128, channels=(32, 32),
                          dilations=(2, 1), style='conv')
    cfg.model.decode_head.in_channels = 32
    neck = feature_levels(build_model(cfg))
    assert [(lv.name, lv.dilation) for lv in neck[-2:]] == [('neck.layers.0', 2),
                                                            ('neck.layers.1', 1)]
    with pytest.raises(TypeError, match='Linear'):
        feature_levels(nn.Linear(2, 2))


def test_drn_levels_5_to_7_keep_the_even_lattice_and_level_8_breaks_it():
    """Structure, whatever the weights: every op of DRN-D levels 5-7 (dilation 2, 4, 2, residual
    shortcuts) maps the even lattice to itself, so the ERF of level 7 against level 4 is all on
    it (score 1); level 8 (dilation 1) spreads it (the degridding)."""
    model = build_model(read_config(DEMO)).double().eval()
    x = torch.randn(1, 3, 256, 512, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = {r['level']: r for r in measure_gridding(model, x)}
    assert set(rows) == {f'backbone.layer{i}' for i in (5, 6, 7, 8)}
    assert all(r['source'] == 'backbone.layer4' for r in rows.values())
    for i in (5, 6, 7):  # the surround (the centre cell left out) too
        assert rows[f'backbone.layer{i}']['erf_lattice'][2] == pytest.approx(1.0, abs=1e-9)
        assert 0 < rows[f'backbone.layer{i}']['erf_centre_share'] < 1
    assert rows['backbone.layer8']['erf_lattice'][2] < 0.9
    for r in rows.values():
        assert set(r['spectral']) == {2, 4} and all(-1 <= v <= 1 for v in r['spectral'].values())


# --------------------------------------------------------------------------------- the tool
def test_analyze_gridding_tool(demo_cityscapes_data, tmp_path):
    images = osp.join(demo_cityscapes_data, 'leftImg8bit', 'val')
    run_tool('analyze_gridding.py', DEMO, images, '--with',
             osp.join(EXPERIMENTS, 'drn_a_18_demo-128x256.py'), '--num-images', '1', '--out',
             tmp_path)
    rows = json.load(open(tmp_path / 'gridding.json'))
    assert [r['name'] for r in rows] == [
        'drn_d_22_demo_cityscapes-128x256 (random init)', 'drn_a_18_demo-128x256 (random init)'
    ]
    assert [r['level'] for r in rows[1]['rows']] == ['backbone.layer3', 'backbone.layer4']
    table = (tmp_path / 'gridding.md').read_text()
    assert 'ERF lattice d=2' in table and 'ERF centre share' in table
    assert table.count('(random init)') == 6
    for picture in ('erf.png', 'activations.png'):
        assert (tmp_path / picture).stat().st_size > 10_000


def test_sources_that_cannot_be_measured_are_refused():
    """No dilated level for 'auto', or a source at another resolution than the levels after it
    (its centre cell would not be the unit's): errors, not numbers."""
    os32 = build_model(read_config(osp.join(EXPERIMENTS, 'resnetv1c_18-os32_demo-128x256.py')))
    x = torch.randn(1, 3, 64, 128, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="source='auto'.*has none"):
        measure_gridding(os32.eval(), x)
    d22 = build_model(read_config(DEMO)).eval()
    with pytest.raises(ValueError, match='another resolution'):
        measure_gridding(d22, torch.randn(1, 3, 256, 512), source='backbone.layer3')

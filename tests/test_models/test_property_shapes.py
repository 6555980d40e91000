"""Property-based (hypothesis): over input sizes and backbone options, DRN's forward pass gives
the documented shapes (level i: (N, C_i, ceil(H / s_i), ceil(W / s_i))) and never crashes, and a
segmentor predicts one label per input pixel for any image size."""
import math

import numpy as np
import pytest
import torch
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from drn_mm.models import ARCH_SETTINGS, DRN

ARCHS = ('A-18', 'A-50', 'B-26', 'C-26', 'C-58', 'D-22', 'D-24', 'D-54')
#: strides of the levels (drn_mm.models.backbones.drn's docstring)
STRIDES = {'A': (4, 8, 8, 8), 'B': (1, 2, 4, 8, 8, 8, 8, 8)}
STRIDES['C'] = STRIDES['D'] = STRIDES['B']
#: no 'explain' phase: it reruns a failing example hundreds of times (minutes on CPU)
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)


def expected_levels(arch, channels, layers):
    """(width, stride) of each level that exists, computed from the paper's layout."""
    style, block, _ = ARCH_SETTINGS[arch]
    expansion = 4 if block == 'Bottleneck' else 1
    if style == 'A':
        return [(c * expansion, s) for c, s in zip(channels[1:], STRIDES['A'])]
    levels = []
    for i, (c, n, s) in enumerate(zip(channels, layers, STRIDES[style])):
        if n == 0:  # levels 7-8 may be left out
            continue
        levels.append((c * expansion if 2 <= i <= 5 else c, s))
    return levels


@st.composite
def backbone_options(draw):
    arch = draw(st.sampled_from(ARCHS))
    style = arch[0]
    width = st.sampled_from([2, 4, 6])
    if style == 'A':
        channels = [draw(width) for _ in range(5)]
        layers = [draw(st.integers(1, 2)) for _ in range(4)]
    else:
        channels = [draw(width) for _ in range(8)]
        layers = [draw(st.integers(1, 2)) for _ in range(6)]
        layers += [draw(st.integers(0, 1)), draw(st.integers(0, 1))] if style != 'B' else [1, 1]
    num_levels = len(expected_levels(arch, channels, layers))
    chosen = draw(
        st.lists(st.integers(0, num_levels - 1), min_size=1, max_size=num_levels,
                 unique=True).map(sorted))
    # the same levels, each named by its index or by its negative index
    out_indices = [i - num_levels if draw(st.booleans()) else i for i in chosen]
    frozen_stages = draw(st.integers(-1, num_levels))
    return dict(arch=arch, channels=channels, layers=layers, out_indices=out_indices,
                frozen_stages=frozen_stages)


@settings(max_examples=25, deadline=None, phases=PHASES)
@given(options=backbone_options(), height=st.integers(1, 48), width=st.integers(1, 48),
       batch=st.integers(1, 2))
def test_drn_forward_gives_the_documented_shapes(options, height, width, batch):
    torch.manual_seed(0)
    model = DRN(**options)
    levels = expected_levels(options['arch'], options['channels'], options['layers'])
    chosen = sorted(i % len(levels) for i in options['out_indices'])
    assert model.num_levels == len(levels)
    assert model.out_indices == tuple(chosen)
    assert model.out_channels == tuple(levels[i][0] for i in chosen)
    assert model.out_strides == tuple(levels[i][1] for i in chosen)
    x = torch.randn(batch, 3, height, width)
    expected = [(batch, c, math.ceil(height / s), math.ceil(width / s))
                for c, s in (levels[i] for i in chosen)]
    with torch.no_grad():
        outs = model.eval()(x)
    assert [tuple(o.shape) for o in outs] == expected
    assert all(torch.isfinite(o).all() for o in outs)
    # frozen: the stem and levels 1..frozen_stages get no gradient
    modules = [model.stem] + model.levels()
    for k, module in enumerate(modules):
        trainable = {p.requires_grad for p in module.parameters()}
        assert trainable == ({False} if k <= options['frozen_stages'] else {True}), k
    if batch == 2:  # training (BatchNorm needs more than one value per channel)
        outs = model.train()(x)
        assert [tuple(o.shape) for o in outs] == expected
        if any(o.requires_grad for o in outs):  # not when every output level is frozen
            sum(o.mean() for o in outs).backward()


@pytest.mark.parametrize('out_indices', [(7, 3), (3, 7, 5), (-1, 0)])
def test_unsorted_out_indices_outputs_follow_out_channels(out_indices):
    model = DRN('D-22', channels=[4, 8, 8, 8, 16, 16, 16, 12], out_indices=out_indices).eval()
    assert model.out_indices == tuple(sorted(i % 8 for i in out_indices))  # level order
    with torch.no_grad():
        outs = model(torch.zeros(1, 3, 16, 16))
        every = DRN('D-22', channels=[4, 8, 8, 8, 16, 16, 16, 12],
                    out_indices=tuple(range(8))).eval()
        every.load_state_dict(model.state_dict())
        levels = every(torch.zeros(1, 3, 16, 16))
    assert tuple(o.shape[1] for o in outs) == model.out_channels
    for out, index in zip(outs, model.out_indices):
        assert torch.equal(out, levels[index])


@pytest.fixture(scope='module', params=['deconv', 'bilinear'])
def segmentor(request):
    from tool_runs import DEMO_CONFIG

    from drn_mm.apis import init_segmentor
    torch.manual_seed(0)
    model = init_segmentor(
        DEMO_CONFIG, cfg_options={
            'model.backbone.channels': [4, 4, 4, 4, 8, 8, 8, 8],
            'model.decode_head.in_channels': 8,
            'model.decode_head.num_classes': 5,
            'model.decode_head.upsample': request.param
        })
    model.init_weights()
    return model.eval()


@settings(max_examples=12, deadline=None, phases=PHASES)
@given(height=st.integers(1, 70), width=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_segmentor_predicts_a_label_for_every_pixel(segmentor, height, width, seed):
    from mmseg.structures import SegDataSample
    image = torch.from_numpy(
        np.random.default_rng(seed).integers(0, 256, (3, height, width), dtype=np.uint8))
    sample = SegDataSample(metainfo=dict(ori_shape=(height, width), img_shape=(height, width)))
    with torch.no_grad():
        result = segmentor.test_step(dict(inputs=[image], data_samples=[sample]))[0]
    assert tuple(result.pred_sem_seg.shape) == (height, width)
    assert tuple(result.seg_logits.data.shape) == (5, height, width)
    labels = result.pred_sem_seg.data
    assert labels.min() >= 0 and labels.max() < 5

"""Inference precision paths (fp32, bf16, int8 via ONNX Runtime, auto) on the demo model: each
builds and runs, INT8 labels are checked against fp32 on this machine's CPU (whatever it has), the
'auto' choice is explained, and tools/test.py --precision runs them through the Runner."""
import glob
import json
import os.path as osp

import pytest
import torch
from tool_runs import DEMO_CONFIG, run_tool, tiny_options

from drn_mm.apis import build_model, read_config
from drn_mm.deploy import calibrate_batchnorm
from drn_mm.deploy.precision import (build_predictor, choose_precision, cpu_features,
                                     has_bf16_hardware, label_agreement)


@pytest.fixture(scope='module')
def model_and_inputs():
    """The demo config's narrow D-22 (random weights, BN statistics of its inputs) and smooth
    image-like inputs, so that labels are not decided by noise."""
    model = build_model(read_config(DEMO_CONFIG), seed=0)
    g = torch.Generator().manual_seed(0)
    base = torch.nn.functional.interpolate(
        torch.randn(6, 3, 8, 16, generator=g), size=(64, 128), mode='bilinear', align_corners=False)
    inputs = [base[i:i + 2] for i in range(0, 6, 2)]
    calibrate_batchnorm(model, base)
    return model.eval(), inputs


def test_cpu_features_name_the_isa():
    features = cpu_features()
    assert {'cpu', 'threads', 'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16',
            'amx_int8'} <= set(features)


@pytest.mark.parametrize('precision', ['fp32', 'bf16', 'int8'])
def test_each_path_builds_runs_and_agrees_with_fp32(model_and_inputs, precision, tmp_path):
    model, inputs = model_and_inputs
    fp32 = build_predictor(model, 'fp32')
    predictor = build_predictor(model, precision, calibration=inputs, workdir=str(tmp_path))
    assert predictor.precision == precision
    out = predictor(inputs[0])
    assert out.dtype == torch.float32 and out.shape == fp32(inputs[0]).shape
    agreement = label_agreement(predictor, fp32, inputs)
    print(f'{precision}: labels agree with fp32 on {agreement * 100:.2f} % ({predictor.detail})')
    if precision == 'fp32':
        assert agreement == 1.0
    elif precision == 'bf16':
        assert agreement >= 0.9, agreement
    else:
        # random weights give near-uniform logits, whose labels int8 rounding flips (78.8 %
        # measured on an AVX-512 CPU; chance is 1 in 19); the trained demo model agrees on 99.2 %
        # of the val pixels (README). Far above chance: the quantized graph is the same network.
        assert agreement >= 0.5, agreement
    # the model itself is untouched (bf16 and int8 work on copies)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_auto_picks_the_fastest_path_that_agrees_and_explains(model_and_inputs, tmp_path):
    model, inputs = model_and_inputs
    predictor, reason = choose_precision(model, inputs, workdir=str(tmp_path))
    candidates = predictor.candidates
    assert set(candidates) == {'fp32', 'bf16', 'int8'}
    if has_bf16_hardware('cpu'):
        assert 'ms' in candidates['bf16']
    else:
        assert 'no bf16 hardware' in candidates['bf16']['skipped']
    assert 'ms' in candidates['int8']  # onnxruntime is a test dependency
    eligible = {n: c for n, c in candidates.items() if 'ms' in c and c['agreement'] >= 0.99}
    assert 'fp32' in eligible and candidates['fp32']['agreement'] == 1.0
    assert predictor.precision == min(eligible, key=lambda n: eligible[n]['ms'])
    for name, c in candidates.items():  # the reason names each candidate, time and agreement
        assert name in reason
        if 'ms' in c:
            assert f'{c["ms"]:.1f} ms, agreement {c["agreement"] * 100:.2f} %' in reason
            assert c['qualified'] == (c['agreement'] >= 0.99)
    assert reason.startswith(f'{predictor.precision}: the fastest path whose labels agree')
    assert predictor.detail.startswith(f'auto chose {reason}')
    # nothing to check against: fp32, said so
    predictor, reason = choose_precision(model, [])
    assert predictor.precision == 'fp32' and 'no calibration images' in reason


@pytest.mark.slow
def test_test_tool_runs_each_precision(demo_cityscapes_data, tmp_path):
    options = tiny_options(demo_cityscapes_data)
    work = tmp_path / 'train'
    run_tool('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options', *options)
    metrics = {}
    for precision in ('fp32', 'int8', 'auto'):
        result = run_tool('test.py', DEMO_CONFIG, work / 'iter_4.pth', '--precision', precision,
                          '--work-dir', tmp_path / precision, '--cfg-options', *options)
        metrics[precision] = json.loads(result.stdout.strip().splitlines()[-1])
        log = open(glob.glob(osp.join(tmp_path, precision, '*', '*.log'))[0]).read()
        if precision != 'fp32':
            assert 'inference precision: ' in log and '% of the pixels of' in log
    assert metrics['int8'].keys() == metrics['fp32'].keys()


def test_inference_tool_precision(demo_cityscapes_data, tmp_path):
    """tools/inference.py --precision int8 calibrates on the image and says how it agrees."""
    import glob as g

    from drn_mm.apis import init_segmentor, segment_image
    from drn_mm.deploy.precision import set_inference_precision
    model = build_model(read_config(DEMO_CONFIG), seed=0)
    calibrate_batchnorm(model, torch.randn(2, 3, 64, 128))
    checkpoint = tmp_path / 'm.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    image = sorted(g.glob(osp.join(demo_cityscapes_data, 'leftImg8bit', 'val', '*', '*.png')))[0]
    fp32 = segment_image(init_segmentor(DEMO_CONFIG, str(checkpoint)), image)
    model = init_segmentor(DEMO_CONFIG, str(checkpoint))
    model, said = set_inference_precision(model, 'int8', [image])
    assert said.startswith('int8 (ONNX Runtime') and 'labels agree with fp32 on' in said
    int8 = segment_image(model, image)
    assert int8.shape == fp32.shape and model.inference_precision == 'int8'
    result = run_tool('inference.py', DEMO_CONFIG, checkpoint, image, '--out',
                      tmp_path / 'o' / 'x.png', '--precision', 'bf16')
    assert 'precision: bf16' in result.stdout and (tmp_path / 'o' / 'x.png').is_file()

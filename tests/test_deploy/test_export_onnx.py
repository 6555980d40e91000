"""ONNX export of DRN segmentors: onnxruntime gives PyTorch's logits, at any batch and size."""
import json
import os.path as osp
import subprocess
import sys

import onnx  # noqa: E402  (in setup.py's tests extra)
import onnxruntime  # noqa: F401,E402
import pytest
import torch

from drn_mm.apis import build_model  # noqa: E402
from drn_mm.apis import read_config as load_benchmark_config  # noqa: E402
from drn_mm.deploy import calibrate_batchnorm  # noqa: E402
from drn_mm.deploy.onnx import export_onnx, onnx_parity  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOL = 1e-4  # max abs error / max |PyTorch logits|
TINY_DRN = {
    'model.backbone.channels': (4, 8, 8, 8, 16, 16, 16, 16),
    'model.decode_head.in_channels': 16
}
CONFIGS = {
    'drn_seg': ('configs/drn/drn_d_22_cityscapes.py', TINY_DRN),
    'fcn_drn': ('configs/drn/fcn_drn-d-22-d8_4xb2-40k_cityscapes-512x1024.py',
                dict(
                    TINY_DRN, **{
                        'model.decode_head.channels': 8,
                        'model.auxiliary_head.in_channels': 16,
                        'model.auxiliary_head.channels': 8
                    })),
}


def tiny_segmentor(name):
    config, options = CONFIGS[name]
    model = build_model(load_benchmark_config(osp.join(REPO, config), options))
    gen = torch.Generator().manual_seed(0)
    return calibrate_batchnorm(model, torch.randn(2, 3, 64, 96, generator=gen))


@pytest.mark.parametrize('fold_bn', [False, True])
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_onnx_matches_pytorch_with_dynamic_batch_and_size(name, fold_bn, tmp_path):
    model = tiny_segmentor(name)
    path = export_onnx(model, str(tmp_path / 'model.onnx'), size=(64, 96), fold_bn=fold_bn)
    onnx.checker.check_model(onnx.load(path))
    gen = torch.Generator().manual_seed(1)
    for batch, size in ((1, (64, 96)), (3, (48, 128)), (2, (40, 40))):
        inputs = torch.randn(batch, 3, *size, generator=gen)
        result = onnx_parity(model, path, inputs)
        assert result['max_rel_err'] <= TOL, (batch, size, result)
        if name == 'drn_seg':  # the paper's head gives logits at the input resolution
            assert result['shape'] == [batch, 19, *size]
    # the exporter worked on a copy: the model still has its BatchNorms
    assert any('BatchNorm' in type(m).__name__ for m in model.modules())


def test_export_tool_writes_and_checks_a_folded_model(tmp_path):
    out = tmp_path / 'new' / 'folder' / 'drn.onnx'  # created by the tool
    options = [f'{k}={list(v) if isinstance(v, tuple) else v}' for k, v in TINY_DRN.items()]
    result = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'export_onnx.py'),
        osp.join(REPO, CONFIGS['drn_seg'][0]),
        str(out), '--size', '64', '96', '--fold-bn', '--cfg-options',
        *[o.replace(' ', '') for o in options]
    ], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.exists()
    parity = json.loads(result.stdout.strip().splitlines()[-1])
    assert parity['max_rel_err'] <= TOL and parity['shape'] == [1, 19, 64, 96]
    # the file carries its preprocessing: the config's (the reference's Cityscapes statistics)
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(out)).metadata_props}
    assert meta['mean'] == pytest.approx([0.290101 * 255, 0.328081 * 255, 0.286964 * 255])
    assert meta['std'] == pytest.approx([0.182954 * 255, 0.186566 * 255, 0.184475 * 255])
    assert meta['bgr_to_rgb'] is True and meta['size_divisor'] == 8 and meta['num_classes'] == 19


def test_onnx_metadata_names_the_checkpoint_s_classes(tmp_path):
    """tools/export_onnx.py --checkpoint: the classes of the checkpoint's meta go into the ONNX
    metadata (was: classes = [] though the checkpoint's meta had the 19 names)."""
    from mmseg.utils import get_classes
    from tool_runs import DEMO_CONFIG

    from drn_mm.apis import init_segmentor, load_model_checkpoint
    from drn_mm.deploy.onnx import preprocessing_metadata
    options = {
        'model.backbone.channels': [4, 4, 4, 4, 8, 8, 8, 8],
        'model.decode_head.in_channels': 8
    }
    model = init_segmentor(DEMO_CONFIG, cfg_options=options)
    path = tmp_path / 'mine.pth'
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=dict(classes=tuple(get_classes('cityscapes'))))), path)
    fresh = init_segmentor(DEMO_CONFIG, cfg_options=options)
    fresh.dataset_meta = None
    load_model_checkpoint(fresh, str(path))
    classes = json.loads(preprocessing_metadata(fresh)['classes'])
    assert classes == list(get_classes('cityscapes'))

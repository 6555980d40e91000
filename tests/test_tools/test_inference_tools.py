"""tools/inference.py, tools/show_predictions.py and mmseg's own train.py on drn_mm configs."""
import glob
import importlib.util
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tool_runs import DEMO_CONFIG, REPO, run_tool, tiny_options


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory, demo_cityscapes_data):
    """A checkpoint of the tiny demo model, trained 2 iterations by mmseg's own train.py."""
    work = tmp_path_factory.mktemp('mmseg_train')
    mmseg_dir = importlib.util.find_spec('mmseg').submodule_search_locations[0]
    mmseg_train = osp.join(mmseg_dir, '.mim', 'tools', 'train.py')
    result = subprocess.run([
        sys.executable, mmseg_train, DEMO_CONFIG, '--work-dir',
        str(work), '--cfg-options', *tiny_options(demo_cityscapes_data, max_iters=2)
    ], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    assert 'Iter(train) [2/2]' in result.stdout + result.stderr
    return str(work / 'iter_2.pth'), demo_cityscapes_data


def test_mmseg_own_train_tool_runs_drn_mm_config(tiny_checkpoint):
    checkpoint = torch.load(tiny_checkpoint[0], map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    assert any(k.startswith('backbone.layer8.') for k in checkpoint['state_dict'])


def test_inference_writes_coloured_mask(tiny_checkpoint, tmp_path):
    checkpoint, data_root = tiny_checkpoint
    image = sorted(glob.glob(osp.join(data_root, 'leftImg8bit', 'val', '*', '*.png')))[0]
    out = tmp_path / 'mask.png'
    options = ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16']
    result = run_tool('inference.py', DEMO_CONFIG, checkpoint, image, '--out', out, '--opacity',
                      '0.5', '--cfg-options', *options)
    assert f'wrote {out}' in result.stdout
    mask, source = np.asarray(Image.open(out)), np.asarray(Image.open(image).convert('RGB'))
    assert mask.shape == source.shape and mask.dtype == np.uint8
    assert not np.array_equal(mask, source)


def test_show_predictions_writes_comparison(tiny_checkpoint, tmp_path):
    checkpoint, data_root = tiny_checkpoint
    out = tmp_path / 'grid.png'
    result = run_tool('show_predictions.py', DEMO_CONFIG, checkpoint, '--out', out, '--num', '2',
                      '--cfg-options', *tiny_options(data_root))
    grid = np.asarray(Image.open(out))
    assert grid.shape[1] == 3 * 128 + 2 * 4  # image | ground truth | prediction
    assert grid.shape[0] == 14 + 2 * 64 + 4
    assert 'pixel accuracy per image' in result.stdout


def test_inference_on_exif_rotated_16bit_and_into_a_new_folder(tiny_checkpoint, tmp_path):
    """An EXIF-rotated JPEG (crashed with a broadcast error after the model ran), a 16-bit gray PNG
    (the overlay came out white), and --out in a folder that does not exist, without extension."""
    checkpoint, data_root = tiny_checkpoint
    source = sorted(glob.glob(osp.join(data_root, 'leftImg8bit', 'val', '*', '*.png')))[0]
    pil = Image.open(source).convert('RGB')
    rotated = tmp_path / 'rotated.jpg'
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    pil.save(rotated, exif=exif, quality=95)
    gray16 = tmp_path / 'gray16.png'
    gray = np.asarray(pil.convert('L'), dtype=np.uint16) * 257
    Image.fromarray(gray).save(gray16)
    options = ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16']
    for image, expected_shape in ((rotated, (pil.width, pil.height, 3)), (gray16, (pil.height,
                                                                                   pil.width, 3))):
        out = tmp_path / 'new' / 'folder' / f'{image.stem}_mask'
        result = run_tool('inference.py', DEMO_CONFIG, checkpoint, image, '--out', out, '--opacity',
                          '0.0', '--cfg-options', *options)
        assert f'wrote {out}' in result.stdout
        picture = np.asarray(Image.open(out))
        assert picture.shape == expected_shape  # upright, as the model saw it
        assert picture.max() < 255 or picture.min() < 200  # opacity 0: the image, not white


def test_mmseg_inferencer_runs_the_checked_pipeline(tiny_checkpoint):
    """The drn_mm Cityscapes pipelines read labels through LoadCheckedAnnotations and keep
    LoadImageFromFile by name: MMSegInferencer (which drops only 'LoadAnnotations' and needs
    'LoadImageFromFile') still runs them."""
    from mmengine.config import Config
    from mmseg.apis import MMSegInferencer
    checkpoint, data_root = tiny_checkpoint
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({
        'model.backbone.channels': [4, 8, 8, 8, 16, 16, 16, 16],
        'model.decode_head.in_channels': 16
    })
    names = [step['type'] for step in cfg.test_dataloader.dataset.pipeline]
    assert names[0] == 'LoadImageFromFile' and 'LoadCheckedAnnotations' in names
    image = sorted(glob.glob(osp.join(data_root, 'leftImg8bit', 'val', '*', '*.png')))[0]
    inferencer = MMSegInferencer(model=cfg, weights=checkpoint, device='cpu')
    result = inferencer(image, return_datasamples=True)
    assert tuple(result.pred_sem_seg.data.shape[-2:]) == (64, 128)


def test_show_predictions_of_no_images_is_a_clear_error(tmp_path):
    """--num 0 raised an IndexError from the picture code."""
    from drn_mm.visualization import show_dataset_predictions
    with pytest.raises(ValueError, match='num=0: the picture needs at least one image'):
        show_dataset_predictions(DEMO_CONFIG, str(tmp_path / 'none.pth'), str(tmp_path / 'x.png'),
                                 num=0)

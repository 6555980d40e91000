"""tools/train.py with an ImageNet classification config for a few iterations on a generated
ImageNet-layout data set, then tools/test.py with the localization config on the checkpoint it
wrote: the localization table and metrics come out, and agree with the same checkpoint run
image by image through drn_mm's own inference path."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from loc_data import make_imagenet_train, make_imagenet_val

import drn_mm  # noqa: F401  (also lets torch.load read mmengine checkpoints)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PYTHON = osp.join(REPO, '.venv', 'bin', 'python')
if not osp.exists(PYTHON):
    PYTHON = sys.executable
WNIDS = [f'n{i:08d}' for i in range(4)]
TINY = ['model.backbone.channels=(4,8,8,8,16,16,16,16)', 'model.head.in_channels=16']


def run(args, cwd):
    proc = subprocess.run([PYTHON] + args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f'{args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('imagenet'))
    make_imagenet_train(root, WNIDS, per_class=2, size=(40, 48))
    images = [
        dict(size=(48, 64), label=0, boxes=[(4, 4, 40, 30)]),
        dict(size=(64, 48), label=1, boxes=[(0, 8, 48, 64)]),
        dict(size=(40, 40), label=2, boxes=[(10, 10, 30, 30), (0, 0, 8, 8)]),
        dict(size=(56, 72), label=3, boxes=[(20, 0, 72, 40)])
    ]
    make_imagenet_val(root, images, WNIDS)
    return root, images


@pytest.mark.slow
def test_train_then_test_localization(imagenet, tmp_path):
    root, images = imagenet
    work_dir = str(tmp_path / 'work')
    options = TINY + [
        f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0', 'train_dataloader.dataset.pipeline.1.scale=64',
        'val_dataloader.dataset.pipeline.1.scale=72',
        'val_dataloader.dataset.pipeline.2.crop_size=64', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1', 'randomness.seed=0'
    ]
    log = run([
        'tools/train.py', 'configs/drn/drn-c-26_8xb32_in1k.py', '--work-dir', work_dir,
        '--cfg-options'
    ] + options, REPO)
    # 8 images / batch 4 = 2 iterations, each logging a finite loss; then top-1/5 validation
    losses = [float(v) for v in re.findall(r'Epoch\(train\) \[1\]\[\d/2\].*loss: ([\d.]+)', log)]
    assert len(losses) == 2 and all(0 < v < 20 for v in losses), log[-2000:]
    assert re.search(r'Epoch\(val\) \[1\]\[1/1\]\s+accuracy/top1: [\d.]+\s+accuracy/top5', log)
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    assert state['head.fc.weight'].shape == (1000, 16, 1, 1)
    assert state['backbone.stem.0.weight'].shape == (4, 3, 7, 7)

    test_options = TINY + [
        f'test_dataloader.dataset.data_root={root}', 'test_dataloader.num_workers=0',
        'test_dataloader.batch_size=2', 'test_dataloader.dataset.pipeline.1.scale=(64,64)'
    ]
    out = run([
        'tools/test.py', 'configs/drn/drn-c-26_cam_8xb32_in1k-loc.py', checkpoint, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + test_options, REPO)
    assert 'Weakly-supervised localization (protocol=paper, threshold=0, IoU >= 0.5, 4 images)' \
        in out
    for row in ('top-1 localization error', 'top-5 localization error',
                'GT-known localization error', 'top-1 classification error',
                'top-5 classification error'):
        assert re.search(row + r'\s+\d+\.\d\d %', out), row
    metrics = json.loads([line for line in out.splitlines() if line.startswith('{')][-1])

    # the same checkpoint, image by image through drn_mm.visualization's inference path
    from drn_mm.apis import init_classifier, predict_image
    from drn_mm.evaluation.localization import (box_iou, box_to_original, geometry_from_metainfo,
                                                localize)
    model = init_classifier(
        osp.join(REPO, 'configs/drn/drn-c-26_cam_8xb32_in1k-loc.py'), checkpoint, cfg_options={
            'model.backbone.channels': (4, 8, 8, 8, 16, 16, 16, 16),
            'model.head.in_channels': 16,
            'test_dataloader.dataset.pipeline.1.scale': (64, 64)
        })
    hits1 = hits5 = localized = loc1 = loc5 = 0
    ious = []
    for i, image in enumerate(images):
        path = osp.join(root, 'val', f'ILSVRC2012_val_{i + 1:08d}.JPEG')
        sample = predict_image(model, path)
        label = image['label']
        ranked = sample.pred_score.topk(5).indices.tolist()
        box = localize(sample.pred_cam, [label], 'paper', 0.0, 8,
                       tuple(sample.metainfo['img_shape']))[0]
        box = box_to_original(box, geometry_from_metainfo(sample.metainfo))
        iou = box_iou(box, torch.tensor(image['boxes'], dtype=torch.float32)).max().item()
        ious.append(iou)
        ok = iou >= 0.5
        hits1 += ranked[0] == label
        hits5 += label in ranked
        localized += bool(ok)
        loc1 += ranked[0] == label and bool(ok)
        loc5 += label in ranked and bool(ok)
    expected = {
        'top1_cls_err': hits1,
        'top5_cls_err': hits5,
        'gt_known_loc_err': localized,
        'top1_loc_err': loc1,
        'top5_loc_err': loc5
    }
    for key, correct in expected.items():
        assert metrics[f'localization/{key}'] == pytest.approx(100 * (4 - correct) / 4), key
    # a non-trivial number even for an untrained model (whose boxes rarely reach IoU 0.5)
    assert metrics['localization/mean_iou'] == pytest.approx(100 * sum(ious) / 4, abs=1e-3)
    print('tools/test.py:', metrics, 'IoUs:', ious)

"""One checkpoint, three tasks (drn_mm.analysis.cam_tasks): segmentation from class maps and its
mIoU by hand, and the whole run (classification, all localization protocols, segmentation with
the threshold chosen on the train split) through tools/cam_tasks.py on generated shapes."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from tool_runs import REPO, run_tool

from drn_mm.analysis.cam_tasks import TAUS, segment_from_cams, segmentation_miou
from drn_mm.demo.shapes import generate_demo_shapes_cub

CONFIG = osp.join(REPO, 'configs', 'demo', 'drn_c_26_demo_shapes_localization.py')


def test_segment_from_cams_by_hand():
    """Two classes, 2 x 2 cells at stride 1 (no upsampling): the argmax class, background where
    the highest map is below tau x the image's maximum (here 4)."""
    cam = torch.tensor([[[4.0, 1.0], [0.0, 0.5]], [[0.0, 3.0], [1.0, 0.2]]])
    sample = dict(pred_cam=cam, img_shape=(2, 2), ori_shape=(2, 2))
    # normalized maxima: 1.0 (class 0), 0.75 (class 1), 0.25 (class 1), 0.125 (class 0)
    assert segment_from_cams(sample, 0.5, stride=1).tolist() == [[1, 2], [0, 0]]
    assert segment_from_cams(sample, 0.2, stride=1).tolist() == [[1, 2], [2, 0]]
    assert segment_from_cams(sample, 0.0, stride=1).tolist() == [[1, 2], [2, 1]]


def test_segmentation_miou_by_hand():
    truth = [np.array([[0, 1], [1, 2]])]
    pred = [np.array([[0, 1], [0, 2]])]
    # label 0: tp 1, fp 1, fn 0 -> 1/2; label 1: tp 1, fn 1 -> 1/2; label 2: 1; label 3: absent
    result = segmentation_miou(pred, truth, 4)
    assert result['per_label_iou'] == [50.0, 50.0, 100.0, None]
    assert result['mIoU'] == pytest.approx(200 / 3)
    assert result['pixel_acc'] == 75.0


def test_cam_tasks_tool_on_generated_shapes(tmp_path):
    """A barely trained classifier (4 iterations): the numbers are whatever they are; the run
    must report every task, choose tau on the train split and draw its picture."""
    root = str(tmp_path / 'shapes')
    generate_demo_shapes_cub(root, 2, 1, size=(48, 48), seed=1)
    options = [
        f'data_root={root}', f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}', f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=5', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'param_scheduler.1.T_max=1', 'param_scheduler.1.end=2'
    ]
    work = tmp_path / 'work'
    run_tool('train.py', CONFIG, '--work-dir', work, '--cfg-options', *options)
    config = next(work.glob('*.py'))  # the config as trained (data root included)
    out = tmp_path / 'tasks'
    result = run_tool('cam_tasks.py', config, work / 'epoch_2.pth', '--out', out)
    data = json.load(open(out / 'cam_tasks.json'))
    assert data['num_train'] == 10 and data['num_test'] == 5
    assert data['labels'][0] == 'background' and len(data['labels']) == 6
    seg = data['segmentation']
    by_tau = {float(k): v for k, v in seg['train_miou_by_tau'].items()}
    assert sorted(by_tau) == list(TAUS)
    assert seg['tau'] == max(by_tau, key=lambda t: by_tau[t])  # chosen on train, not test
    paper = data['localization']['paper']
    for key in ('gt_known_loc_err', 'top1_loc_err', 'MaxBoxAccV2', 'PxAP', 'PIoU'):
        assert 0 <= paper[key] <= 100, key
    assert 0 <= data['localization']['cam']['gt_known_loc_err'] <= 100
    assert 0 <= data['classification']['top1_acc'] <= 100
    table = (out / 'cam_tasks.md').read_text()
    assert table in result.stdout and 'PxAP' in table and 'MaxBoxAccV2' in table
    assert (out / 'cam_tasks.png').stat().st_size > 10_000

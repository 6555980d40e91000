"""The demo shapes generator (drn_mm.demo.shapes): deterministic, in the CUB-200-2011
layout that CUBLocalization reads, with boxes that are exactly the drawn object's extent."""
import filecmp
import os
import os.path as osp

import mmpretrain  # noqa: F401,E402
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS  # noqa: E402
from PIL import Image

import drn_mm  # noqa: F401
from drn_mm.demo.shapes import (CLASSES, box_from_object_mask, generate_demo_shapes_cub, main,
                                render_sample)

CUB_FILES = ('images.txt', 'image_class_labels.txt', 'train_test_split.txt', 'bounding_boxes.txt',
             'classes.txt')
SIZE = (64, 80)  # (H, W): non-square, so that x / y mix-ups show


def all_files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def read_table(path):
    with open(path) as f:
        return {int(line.split()[0]): line.split()[1:] for line in f if line.strip()}


def build(root, split):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(
            dict(type='CUBLocalization', data_root=root, split=split, pipeline=[]))


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes'))
    summary = generate_demo_shapes_cub(root, 3, 2, size=SIZE, seed=7)
    return root, summary


def test_layout_and_determinism(shapes, tmp_path):
    root, summary = shapes
    assert summary['num_train'] == 3 * len(CLASSES) and summary['num_test'] == 2 * len(CLASSES)
    files = all_files(root)
    assert set(CUB_FILES) <= set(files)
    images = [f for f in files if f.endswith('.jpg')]
    assert len(images) == 5 * len(CLASSES)
    # each image's exact object mask, at the same path under masks/ (the PxAP masks)
    masks = [f for f in files if f.startswith('masks' + os.sep)]
    assert sorted(masks) == sorted(
        osp.join('masks', osp.relpath(osp.splitext(f)[0] + '.png', 'images')) for f in images)
    again = str(tmp_path / 'again')
    generate_demo_shapes_cub(again, 3, 2, size=SIZE, seed=7)
    assert all_files(again) == files
    for name in files:  # byte for byte
        assert filecmp.cmp(osp.join(root, name), osp.join(again, name), shallow=False), name
    other = str(tmp_path / 'other')
    generate_demo_shapes_cub(other, 3, 2, size=SIZE, seed=8)
    assert not filecmp.cmp(
        osp.join(root, 'bounding_boxes.txt'), osp.join(other, 'bounding_boxes.txt'), shallow=False)


def test_cub_localization_reads_it(shapes):
    root, _ = shapes
    images = read_table(osp.join(root, 'images.txt'))
    boxes = read_table(osp.join(root, 'bounding_boxes.txt'))
    classes = read_table(osp.join(root, 'classes.txt'))
    assert [classes[c + 1][0] for c in range(len(CLASSES))
            ] == [f'{c + 1:03d}.{name}' for c, name in enumerate(CLASSES)]
    seen = []
    for split, per_class in (('train', 3), ('test', 2)):
        dataset = build(root, split)
        assert len(dataset) == per_class * len(CLASSES)
        labels = [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]
        assert np.bincount(labels).tolist() == [per_class] * len(CLASSES)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            rel = osp.relpath(info['img_path'], osp.join(root, 'images'))
            image_id = next(k for k, v in images.items() if v[0] == rel)
            seen.append(image_id)
            label = info['gt_label']
            assert rel.split('/')[0] == f'{label + 1:03d}.{CLASSES[label]}'
            x, y, w, h = (float(v) for v in boxes[image_id])
            assert info['ori_bboxes'].tolist() == [[x, y, x + w, y + h]]
            assert info['ori_bbox_labels'].tolist() == [label]
            # inside the image, and neither tiny nor the whole image
            height, width = np.asarray(Image.open(info['img_path'])).shape[:2]
            assert (height, width) == SIZE
            assert 0 <= x and 0 <= y and x + w <= width and y + h <= height
            assert 0.02 < w * h / (width * height) < 0.5
    assert sorted(seen) == sorted(images)  # train and test split every image


def test_boxes_are_the_drawn_object(shapes):
    root, _ = shapes
    images = read_table(osp.join(root, 'images.txt'))
    labels = read_table(osp.join(root, 'image_class_labels.txt'))
    boxes = read_table(osp.join(root, 'bounding_boxes.txt'))
    for image_id, (rel, ) in images.items():
        label = int(labels[image_id][0]) - 1
        rendered, mask = render_sample(label, SIZE, (7, image_id))
        # the file is that rendering, up to JPEG (quality 95, 4:4:4) on the pixel noise
        saved = np.asarray(Image.open(osp.join(root, 'images', rel)).convert('RGB'))
        assert saved.shape == rendered.shape
        assert np.abs(saved.astype(np.float32) - rendered).mean() < 5
        blocks = [
            a.reshape(SIZE[0] // 4, 4, SIZE[1] // 4, 4, 3).mean(axis=(1, 3))
            for a in (saved.astype(np.float32), rendered.astype(np.float32))
        ]
        assert np.abs(blocks[0] - blocks[1]).mean() < 1
        x, y, w, h = (int(float(v)) for v in boxes[image_id])
        assert box_from_object_mask(mask) == (x, y, w, h)
        # every object pixel lies in the box, and each side of the box touches the object
        inside = np.zeros(SIZE, dtype=bool)
        inside[y:y + h, x:x + w] = True
        assert mask.any() and not (mask & ~inside).any()
        assert mask[y].any() and mask[y + h - 1].any()
        assert mask[:, x].any() and mask[:, x + w - 1].any()
        # the object stands out: its pixels differ from the background around it
        ring = inside.copy()
        ring[max(y - 4, 0):y + h + 4, max(x - 4, 0):x + w + 4] = True
        ring &= ~inside
        if ring.any():
            assert np.abs(rendered[mask].mean(0) - rendered[ring].mean(0)).max() > 5 or \
                rendered[mask].std() > 20


def test_render_sample_is_a_pure_function():
    for label in range(len(CLASSES)):
        a, mask_a = render_sample(label, (96, 96), (0, 11))
        b, mask_b = render_sample(label, (96, 96), (0, 11))
        assert np.array_equal(a, b) and np.array_equal(mask_a, mask_b)
        assert a.shape == (96, 96, 3) and a.dtype == np.uint8 and mask_a.shape == (96, 96)
    with pytest.raises(ValueError):
        render_sample(len(CLASSES), (96, 96), (0, 1))


def test_command_line(tmp_path, capsys):
    out = str(tmp_path / 'cli')
    summary = main(['--out', out, '--num-train', '1', '--num-test', '1', '--size', '48', '48'])
    assert summary['num_train'] == summary['num_test'] == len(CLASSES)
    assert f'{out}: 5 train + 5 test images of 48x48' in capsys.readouterr().out
    assert len(build(out, 'test')) == len(CLASSES)

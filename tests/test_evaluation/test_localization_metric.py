"""LocalizationMetric on small generated data sets (ImageNet val layout with per-image XML; CUB
layout with bounding_boxes.txt) through the real datasets and test pipeline, with class maps and
scores chosen so that every error can be computed by hand."""
import os.path as osp

import mmpretrain  # noqa: F401,E402  (required: drn_mm's tests need both libraries)
import numpy as np
import pytest
import torch
from helpers import run_two_ranks
from loc_data import make_cub, make_imagenet_val
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS, METRICS  # noqa: E402

import drn_mm  # noqa: F401
from drn_mm.evaluation.wsol import max_box_acc

META_KEYS = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'ori_bboxes', 'ori_bbox_labels', 'crop_offset', 'pre_crop_shape')
# every image resized whole to 32 x 32: a DRN class map of 4 x 4 cells at stride 8
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs', meta_keys=META_KEYS)
]
WNIDS = [f'n{i:08d}' for i in range(6)]


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(cfg)


def class_map(num_classes, label, rect, extra_cell=None, hot=5.0, cold=-1.0):
    """(C, 4, 4): class ``label`` is ``hot`` on cells rows r0..r1, cols k0..k1 (``rect``), and
    ``cold`` elsewhere (other classes 0, so they win there); ``rect=None``: never wins."""
    cam = torch.zeros(num_classes, 4, 4)
    cam[label] = cold
    if rect is not None:
        r0, r1, k0, k1 = rect
        cam[label, r0:r1 + 1, k0:k1 + 1] = hot
    if extra_cell is not None:
        cam[label][extra_cell] = hot
    return cam


def scores_with_rank(num_classes, label, rank):
    """Distinct scores, ``label`` at position ``rank`` (1 = best)."""
    order = [c for c in range(num_classes) if c != label]
    order.insert(rank - 1, label)
    scores = torch.empty(num_classes)
    for position, c in enumerate(order):
        scores[c] = (num_classes - position) / num_classes
    return scores


def run_metric(metric_cfg, dataset, cams, scores):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(metric_cfg)
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        sample.set_field(cams[i], 'pred_cam')
        sample.set_pred_score(scores[i])
        metric.process(None, [sample.to_dict()])
    ious = [r['iou'] for r in metric.results]
    return metric.evaluate(len(dataset)), ious


def imagenet_case(tmp_path):
    """Five images (H, W), the ground-truth class's winning cells (rows r0..r1, cols k0..k1 of
    the 4 x 4 map; input box = 8 x cells; original = input x (W / 32, H / 32)) and GT boxes:

    0: 64x64, class 2, cells r1-2 c1-2 -> input (8,8,24,24) -> (16,16,48,48); GT the same: IoU 1
    1: 48x96, class 0, cells r0-1 c0-3 -> (0,0,32,16) -> (0,0,96,24); GT (0,0,32,24): IoU 1/3
    2: 32x64, class 4, cells r0-3 c0-1 -> (0,0,16,32) -> (0,0,32,32); GTs (0,0,64,32): IoU
       1024/2048 = 0.5 exactly (localizes: >= 0.5) and (40,0,64,10): IoU 0
    3: 40x40, class 1, cells r2-3 c2-3 -> (16,16,32,32) -> (20,20,40,40); GT the same: IoU 1
    4: 64x32, class 3, never wins: empty box; GT (0,0,16,16): IoU 0
    """
    images = [
        dict(size=(64, 64), label=2, boxes=[(16, 16, 48, 48)]),
        dict(size=(48, 96), label=0, boxes=[(0, 0, 32, 24)]),
        dict(size=(32, 64), label=4, boxes=[(0, 0, 64, 32), (40, 0, 64, 10)]),
        dict(size=(40, 40), label=1, boxes=[(20, 20, 40, 40)]),
        dict(size=(64, 32), label=3, boxes=[(0, 0, 16, 16)]),
    ]
    rects = [(1, 2, 1, 2), (0, 1, 0, 3), (0, 3, 0, 1), (2, 3, 2, 3), None]
    ranks = [1, 1, 3, 6, 2]
    root = str(tmp_path / 'imagenet')
    make_imagenet_val(root, images, WNIDS)
    with open(osp.join(root, 'meta', 'wnids.txt'), 'w') as f:
        f.write('\n'.join(WNIDS) + '\n')
    cams = [class_map(6, im['label'], rect) for im, rect in zip(images, rects)]
    scores = [scores_with_rank(6, im['label'], rank) for im, rank in zip(images, ranks)]
    return root, images, cams, scores


def test_imagenet_val_layout_dataset_reads_the_xml_boxes(tmp_path):
    root, images, _, _ = imagenet_case(tmp_path)
    dataset = build(
        dict(type='ImageNetLocalization', data_root=root, split='val', wnid_file='meta/wnids.txt',
             pipeline=[]))
    assert len(dataset) == 5
    for i, image in enumerate(images):
        info = dataset.get_data_info(i)
        assert info['gt_label'] == image['label']
        assert info['ori_bboxes'].tolist() == [list(b) for b in image['boxes']]
        assert info['ori_bbox_labels'].tolist() == [image['label']] * len(image['boxes'])
    # a box named with a wnid the file does not know is an error naming the XML
    with open(osp.join(root, 'meta', 'wnids.txt'), 'w') as f:
        f.write('\n'.join(WNIDS[:3]) + '\n')
    # (image 3 is the first whose class, 4, is beyond the 3 wnids left)
    with pytest.raises(ValueError,
                       match=r"ILSVRC2012_val_00000003\.xml: \['n00000004'\] not in wnid_file"):
        build(dict(type='ImageNetLocalization', data_root=root, wnid_file='meta/wnids.txt'))


def test_metric_on_imagenet_val_layout_paper_protocol(tmp_path):
    root, images, cams, scores = imagenet_case(tmp_path)
    dataset = build(
        dict(type='ImageNetLocalization', data_root=root, split='val', pipeline=PIPELINE))
    metrics, ious = run_metric(
        dict(type='LocalizationMetric', protocol='paper', threshold=0.0, topk=(1, 5)), dataset,
        cams, scores)
    assert ious == pytest.approx([1.0, 1 / 3, 0.5, 1.0, 0.0])
    # by hand, per image:        0      1      2      3      4
    localized = [True, False, True, True, False]  # IoU >= 0.5
    rank = [1, 1, 3, 6, 2]
    # top-1 cls wrong: 2, 3, 4; top-5 cls wrong: 3; not localized: 1, 4;
    # top-1 loc right: 0 only; top-5 loc right: 0, 2
    assert [r == 1 and ok for r, ok in zip(rank, localized)] == [True] + [False] * 4
    assert [r <= 5 and ok for r, ok in zip(rank, localized)] == [True, False, True, False, False]
    assert metrics == {
        'localization/top1_cls_err': 100 * 3 / 5,
        'localization/top5_cls_err': 100 * 1 / 5,
        'localization/gt_known_loc_err': 100 * 2 / 5,
        'localization/top1_loc_err': 100 * 4 / 5,
        'localization/top5_loc_err': 100 * 3 / 5,
        'localization/mean_iou': pytest.approx(100 * (1 + 1 / 3 + 0.5 + 1 + 0) / 5),
    }
    # a stricter IoU: image 2 (IoU 0.5) no longer localizes
    metrics, _ = run_metric(dict(type='LocalizationMetric', iou_thr=0.6), dataset, cams, scores)
    assert metrics['localization/gt_known_loc_err'] == 100 * 3 / 5
    assert metrics['localization/top5_loc_err'] == 100 * 4 / 5
    # threshold above the hot value (5): every box is empty, everything misses
    metrics, _ = run_metric(dict(type='LocalizationMetric', threshold=5.0), dataset, cams, scores)
    assert metrics['localization/gt_known_loc_err'] == 100.0
    assert metrics['localization/top1_cls_err'] == 100 * 3 / 5


def cub_case(tmp_path):
    """Four test images and one train image (left out by split='test'); the CAM protocol at
    t = 0.5: a block of >= 2 x 2 hot cells (value 1, others 0) upsampled x8 is >= 0.5 exactly on
    its own pixels (the edge pixel of a hot cell gets 0.5625, its neighbour 0.4375), so the box
    is 8 x the cells, as in the paper protocol. Original = input x (W / 32, H / 32).

    c0: 64x64, class 5, cells r0-1 c0-1 -> (0,0,32,32) (plus a lone hot cell (3,3): a smaller
        component, ignored); GT x,y,w,h = 0,0,32,32: IoU 1
    c1: 32x96, class 17, cells r0-3 c1-2 -> input (8,0,24,32) -> (24,0,72,32); GT 24,0,24,32 =
        (24,0,48,32): IoU 768/1536 = 0.5
    c2: 48x48, class 199, cells r2-3 c0-3 -> (0,24,48,48); GT 0,0,48,24: IoU 0
    c3: 40x80, class 0, cells r1-2 c1-2 -> input (8,8,24,24) -> (20,10,60,30); GT 20,10,40,20:
        IoU 1
    """
    images = [
        dict(size=(64, 64), label=5, box=(0, 0, 32, 32), train=False),
        dict(size=(32, 32), label=3, box=(1, 1, 5, 5), train=True),
        dict(size=(32, 96), label=17, box=(24, 0, 24, 32), train=False),
        dict(size=(48, 48), label=199, box=(0, 0, 48, 24), train=False),
        dict(size=(40, 80), label=0, box=(20, 10, 40, 20), train=False),
    ]
    root = str(tmp_path / 'CUB_200_2011')
    make_cub(root, images)
    test_images = [im for im in images if not im['train']]
    rects = [(0, 1, 0, 1), (0, 3, 1, 2), (2, 3, 0, 3), (1, 2, 1, 2)]
    extra = [(3, 3), None, None, None]
    ranks = [1, 2, 1, 7]
    cams = [
        class_map(200, im['label'], rect, cell, hot=1.0, cold=0.0)
        for im, rect, cell in zip(test_images, rects, extra)
    ]
    scores = [scores_with_rank(200, im['label'], rank) for im, rank in zip(test_images, ranks)]
    return root, test_images, cams, scores


def test_cub_layout_dataset_reads_bounding_boxes(tmp_path):
    root, test_images, _, _ = cub_case(tmp_path)
    dataset = build(dict(type='CUBLocalization', data_root=root, split='test', pipeline=[]))
    assert len(dataset) == 4
    for i, image in enumerate(test_images):
        info = dataset.get_data_info(i)
        x, y, w, h = image['box']
        assert info['gt_label'] == image['label']
        assert info['ori_bboxes'].tolist() == [[x, y, x + w, y + h]]
        assert info['ori_bbox_labels'].tolist() == [image['label']]
    assert len(build(dict(type='CUBLocalization', data_root=root, split='train'))) == 1


def test_metric_on_cub_layout_cam_protocol(tmp_path):
    root, _, cams, scores = cub_case(tmp_path)
    dataset = build(dict(type='CUBLocalization', data_root=root, split='test', pipeline=PIPELINE))
    metrics, ious = run_metric(
        dict(type='LocalizationMetric', protocol='cam', threshold=0.5, topk=(1, 5)), dataset, cams,
        scores)
    assert ious == pytest.approx([1.0, 0.5, 0.0, 1.0])
    # by hand: localized c0, c1, c3; ranks 1, 2, 1, 7
    # top-1 cls wrong: c1, c3; top-5 cls wrong: c3; not localized: c2;
    # top-1 loc right: c0; top-5 loc right: c0, c1
    assert metrics == {
        'localization/top1_cls_err': 100 * 2 / 4,
        'localization/top5_cls_err': 100 * 1 / 4,
        'localization/gt_known_loc_err': 100 * 1 / 4,
        'localization/top1_loc_err': 100 * 3 / 4,
        'localization/top5_loc_err': 100 * 2 / 4,
        'localization/mean_iou': pytest.approx(100 * 2.5 / 4),
    }
    # the paper protocol on the same maps: the lone cell of c0 is a winning cell too, so c0's
    # box grows to (0,0,64,64): IoU 1024/4096 = 0.25 -> c0 no longer localizes
    metrics, ious = run_metric(
        dict(type='LocalizationMetric', protocol='paper', threshold=0.5), dataset, cams, scores)
    assert ious == pytest.approx([0.25, 0.5, 0.0, 1.0])
    assert metrics['localization/gt_known_loc_err'] == 100 * 2 / 4
    assert metrics['localization/top1_loc_err'] == 100.0
    assert metrics['localization/top5_loc_err'] == 100 * 3 / 4


def test_metric_says_what_is_missing(tmp_path):
    root, _, cams, scores = cub_case(tmp_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(dict(type='LocalizationMetric'))
    dataset = build(dict(type='CUBLocalization', data_root=root, split='test', pipeline=PIPELINE))
    sample = dataset[0]['data_samples']
    sample.set_pred_score(scores[0])
    with pytest.raises(KeyError, match='with_cam=True'):
        metric.process(None, [sample.to_dict()])
    plain = build(dict(type='CUB', data_root=root, split='test', pipeline=PIPELINE))
    sample = plain[0]['data_samples']
    sample.set_pred_score(scores[0])
    sample.set_field(cams[0], 'pred_cam')
    with pytest.raises(KeyError, match='ori_bboxes'):
        metric.process(None, [sample.to_dict()])
    with pytest.raises(ValueError, match=r'\[0, 1\]'), \
            DefaultScope.overwrite_default_scope('mmpretrain'):
        METRICS.build(dict(type='LocalizationMetric', protocol='cam', threshold=2.0))


def _metric_worker(rank, port, root, cams, scores, queue):
    import torch.distributed as dist
    from mmengine.dataset import DefaultSampler
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        dataset = build(
            dict(type='ImageNetLocalization', data_root=root, split='val', pipeline=PIPELINE))
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            metric = METRICS.build(
                dict(type='LocalizationMetric', protocol='paper', threshold=0.0, topk=(1, 5)))
        # the images this rank sees in a distributed test (5 images: rank 1 gets a padded one)
        indices = list(DefaultSampler(dataset, shuffle=False))
        for i in indices:
            sample = dataset[i]['data_samples']
            sample.set_field(cams[i], 'pred_cam')
            sample.set_pred_score(scores[i])
            metric.process(None, [sample.to_dict()])
        queue.put((rank, indices, metric.evaluate(len(dataset))))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_metric_over_two_ranks_equals_one_process(tmp_path):
    """mmengine gathers the per-image results of both ranks (gloo, CPU) and drops the sampler's
    padding: the errors are those of one process over the 5 images."""
    root, _, cams, scores = imagenet_case(tmp_path)
    dataset = build(
        dict(type='ImageNetLocalization', data_root=root, split='val', pipeline=PIPELINE))
    expected, _ = run_metric(
        dict(type='LocalizationMetric', protocol='paper', threshold=0.0, topk=(1, 5)), dataset,
        cams, scores)
    results = run_two_ranks(_metric_worker, root, cams, scores)
    assert results[0][0] == [0, 2, 4] and results[1][0] == [1, 3, 0]  # padded with image 0
    for rank in (0, 1):
        assert results[rank][1] == expected


def test_max_box_acc_v2_through_the_metric(tmp_path):
    """The sweep on the same five images: the GT class's map upsampled to 32 x 32, normalized,
    boxes mapped to original pixels. Image 4's map is constant (-1): normalized to zeros, so
    only tau = 0 gives a box, the whole image (0,0,32,64) against GT (0,0,16,16): IoU 1/8."""
    root, images, cams, scores = imagenet_case(tmp_path)
    dataset = build(
        dict(type='ImageNetLocalization', data_root=root, split='val', pipeline=PIPELINE))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(dict(type='LocalizationMetric', max_box_acc=True))
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        sample.set_field(cams[i], 'pred_cam')
        sample.set_pred_score(scores[i])
        metric.process(None, [sample.to_dict()])
    sweeps = [np.asarray(r['sweep_ious']) for r in metric.results]
    assert sweeps[4][0] == pytest.approx(1 / 8) and not sweeps[4][1:].any()
    # images 0 and 3: the hot cells' box is the GT box exactly at some tau
    assert sweeps[0].max() == pytest.approx(1.0) and sweeps[3].max() == pytest.approx(1.0)
    metrics = metric.evaluate(len(dataset))
    expected = max_box_acc(sweeps)
    for key, value in expected.items():
        assert metrics[f'localization/{key}'] == pytest.approx(value), key
    # at every delta image 4 fails (1/8 < 0.3), so at most 4 of 5 images: <= 80 %
    assert metrics['localization/MaxBoxAcc@70'] <= 80.0
    assert 'localization/MaxBoxAccV2' in metrics


def _shapes_case(tmp_path):
    """The demo shapes generator (masks written beside the images), one test image per class."""
    from drn_mm.demo.shapes import generate_demo_shapes_cub
    root = str(tmp_path / 'shapes')
    generate_demo_shapes_cub(root, 0, 1, size=(48, 48), seed=3)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='PackInputs', meta_keys=META_KEYS + ('ori_mask_path', ))
    ]
    dataset = build(
        dict(type='CUBLocalization', data_root=root, split='test', mask_dir='masks',
             pipeline=pipeline))
    return root, dataset


def test_pxap_through_the_metric_equals_the_sum_by_hand(tmp_path):
    """PxAP of the GT class's CAM against the generator's exact masks: (1) a CAM that is the mask
    itself (stride 1): precision and recall 1 at every tau > 0 -> 100 %, PIoU 100; (2) each
    mask average-pooled to 6 x 6 cells (stride 8): the metric equals PxAP computed by hand on
    the upsampled maps (wsol.pxap), with PIoU from the same counts."""
    from PIL import Image

    from drn_mm.demo.shapes import render_sample
    from drn_mm.evaluation.localization import upsample_cam
    from drn_mm.evaluation.wsol import pixel_counts, pxap, pxap_from_counts
    root, dataset = _shapes_case(tmp_path)
    assert len(dataset) == 5
    masks = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        mask = np.asarray(Image.open(info['ori_mask_path'])) > 0
        masks.append(mask)
        # the file is the generator's mask of that image (image ids are 1-based, in order)
        assert (mask == render_sample(info['gt_label'], (48, 48), (3, i + 1))[1]).all()

    def run(cams, stride):
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            metric = METRICS.build(dict(type='LocalizationMetric', pxap=True, stride=stride))
        for i in range(len(dataset)):
            sample = dataset[i]['data_samples']
            sample.set_field(cams[i], 'pred_cam')
            sample.set_pred_score(torch.ones(5) / 5)
            metric.process(None, [sample.to_dict()])
        return metric.evaluate(len(dataset))

    def cam_of(values, label):
        cam = torch.zeros(5, *values.shape)
        cam[label] = values
        return cam

    exact = [
        cam_of(torch.from_numpy(m).float(),
               dataset.get_data_info(i)['gt_label']) for i, m in enumerate(masks)
    ]
    metrics = run(exact, stride=1)
    assert metrics['localization/PxAP'] == pytest.approx(100.0)
    assert metrics['localization/PIoU'] == pytest.approx(100.0)
    pooled = [
        cam_of(
            torch.nn.functional.avg_pool2d(torch.from_numpy(m).float()[None], 8)[0],
            dataset.get_data_info(i)['gt_label']) for i, m in enumerate(masks)
    ]
    metrics = run(pooled, stride=8)
    upsampled = [
        upsample_cam(c[dataset.get_data_info(i)['gt_label']], 8, (48, 48)).numpy()
        for i, c in enumerate(pooled)
    ]
    assert metrics['localization/PxAP'] == pytest.approx(pxap(zip(upsampled, masks)), abs=1e-9)
    counts = [pixel_counts(c, m) for c, m in zip(upsampled, masks)]
    by_hand = pxap_from_counts(
        sum(c[0] for c in counts), sum(c[1] for c in counts), sum(c[2] for c in counts))
    assert metrics['localization/PIoU'] == pytest.approx(by_hand['PIoU'])
    assert metrics['localization/PIoU_tau'] == by_hand['PIoU_tau']
    assert 50 < metrics['localization/PxAP'] < 100


def test_pxap_needs_masks_and_the_whole_image(tmp_path):
    root, dataset = _shapes_case(tmp_path)
    missing = osp.join(root, 'masks', '003.dotted_triangle')
    import shutil
    shutil.rmtree(missing)
    with pytest.raises(FileNotFoundError, match='no mask .*dotted_triangle'):
        build(dict(type='CUBLocalization', data_root=root, split='test', mask_dir='masks'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(dict(type='LocalizationMetric', pxap=True))
    sample = dataset[0]['data_samples'].to_dict()
    sample.update(pred_cam=torch.zeros(5, 6, 6), pred_score=torch.ones(5))
    sample.pop('ori_mask_path')
    with pytest.raises(KeyError, match='ori_mask_path'):
        metric.process(None, [sample])
    sample = dataset[0]['data_samples'].to_dict()
    sample.update(
        pred_cam=torch.zeros(5, 6, 6), pred_score=torch.ones(5), crop_offset=(0, 0),
        pre_crop_shape=(48, 48))
    with pytest.raises(ValueError, match='cropped'):
        metric.process(None, [sample])

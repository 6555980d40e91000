"""Box extraction on hand-made class maps with answers worked out by hand (both protocols,
thresholds, ties, empty maps), IoU, and the input -> original mapping of real pipelines."""
import numpy as np
import pytest
import torch

from drn_mm.evaluation.localization import (ImageGeometry, box_from_cam, box_from_mask, box_iou,
                                            box_to_original, boxes_from_class_map_paper,
                                            geometry_from_metainfo, largest_component, localize,
                                            upsample_cam)

EMPTY = [0.0, 0.0, 0.0, 0.0]


def paper_map():
    """3 classes on 4 x 5 cells. Class 1 wins (value 5) at cells (1,1), (1,2), (2,2); ties with
    class 0 at (0,0) (both 4); wins with only 0.5 at (3,4); class 2 wins at (3,0) with 2 and
    class 0 everywhere else with 1 (others 0 there)."""
    cm = torch.zeros(3, 4, 5)
    cm[0] = 1.0
    for r, c in [(1, 1), (1, 2), (2, 2)]:
        cm[:, r, c] = torch.tensor([0.0, 5.0, 0.0])
    cm[:, 0, 0] = torch.tensor([4.0, 4.0, 0.0])
    cm[:, 3, 4] = torch.tensor([0.0, 0.5, 0.0])
    cm[:, 3, 0] = torch.tensor([0.0, 0.0, 2.0])
    return cm


def test_paper_box_is_the_smallest_box_of_the_winning_cells_above_t():
    cm = paper_map()
    # t = 1: class 1 cells (0,0) [tie, 4 > 1], (1,1), (1,2), (2,2); (3,4) has 0.5 <= 1.
    # rows 0..2, cols 0..2 -> pixels [0, 24) x [0, 24) at stride 8
    boxes = boxes_from_class_map_paper(cm, [1, 2], threshold=1.0, stride=8)
    assert boxes.tolist() == [[0, 0, 24, 24], [0, 24, 8, 32]]
    # t = 0: (3,4) joins class 1 -> rows 0..3, cols 0..4 -> the whole 40 x 32 input
    assert boxes_from_class_map_paper(cm, 1, threshold=0.0).tolist() == [[0, 0, 40, 32]]
    # t = 4: f > t strictly: the tie cell (value 4) drops out -> rows 1..2, cols 1..2
    assert boxes_from_class_map_paper(cm, 1, threshold=4.0).tolist() == [[8, 8, 24, 24]]
    # t = 5: nothing is strictly above -> the empty box
    assert boxes_from_class_map_paper(cm, 1, threshold=5.0).tolist() == [EMPTY]


def test_paper_ties_count_for_every_tied_class():
    cm = paper_map()
    # class 0 wins everywhere it has 1 and ties at (0,0); with t = 1.5 only the tie (4) counts
    assert boxes_from_class_map_paper(cm, 0, threshold=1.5).tolist() == [[0, 0, 8, 8]]
    # the all-tied map: every class owns every cell
    flat = torch.full((3, 2, 2), 0.7)
    assert boxes_from_class_map_paper(flat, [0, 1, 2], 0.5, stride=4).tolist() == [[0, 0, 8, 8]] * 3


def test_paper_empty_maps():
    zeros = torch.zeros(4, 3, 3)
    # f > 0 never holds on an all-zero map
    assert boxes_from_class_map_paper(zeros, [0, 3], threshold=0.0).tolist() == [EMPTY, EMPTY]
    cm = paper_map()
    cm[2] = -10  # class 2 never wins
    assert boxes_from_class_map_paper(cm, 2, threshold=-100.0).tolist() == [EMPTY]


def test_paper_clips_to_the_input_and_ignores_padding_cells():
    cm = paper_map()
    # input 30 x 37 -> ceil: 4 x 5 cells; the last row / column are partly outside
    assert boxes_from_class_map_paper(cm, 1, 0.0, 8,
                                      input_size=(30, 37)).tolist() == [[0, 0, 37, 30]]
    # input 24 x 24 of a padded batch: only 3 x 3 cells count, (3,4) is padding
    assert boxes_from_class_map_paper(cm, 1, 0.0, 8,
                                      input_size=(24, 24)).tolist() == [[0, 0, 24, 24]]
    with pytest.raises(ValueError, match='cannot cover an input of 40x41'):
        boxes_from_class_map_paper(cm, 1, 0.0, 8, input_size=(40, 41))
    with pytest.raises(ValueError, match=r'classes \[3\] out of range'):
        boxes_from_class_map_paper(cm, [3])


def two_blobs():
    """stride-1 map: blob A (3 pixels, peak 5) at top-left, blob B (4 pixels, peak 3) at right."""
    cam = torch.zeros(6, 8)
    cam[0, 0:3] = torch.tensor([5.0, 4.0, 4.0])
    cam[3:5, 5:7] = 3.0
    return cam


def test_cam_keeps_the_largest_component_above_a_fraction_of_the_max():
    cam = two_blobs()
    # t = 0.5: >= 2.5 keeps A (3 px) and B (4 px): the largest is B, rows 3..4, cols 5..6
    assert box_from_cam(cam, 0.5, stride=1).tolist() == [5, 3, 7, 5]
    # t = 0.7: >= 3.5 keeps only A: row 0, cols 0..2
    assert box_from_cam(cam, 0.7, stride=1).tolist() == [0, 0, 3, 1]
    # t = 1: >= max keeps the peak pixel only
    assert box_from_cam(cam, 1.0, stride=1).tolist() == [0, 0, 1, 1]
    # t = 0: >= 0 keeps every pixel: one component, the whole map
    assert box_from_cam(cam, 0.0, stride=1).tolist() == [0, 0, 8, 6]


def test_cam_component_ties_go_to_the_higher_peak_then_raster_order():
    cam = torch.zeros(5, 9)
    cam[1, 1:3] = 2.0  # left blob: 2 pixels, peak 2
    cam[3, 6:8] = 2.0  # right blob: 2 pixels, peak 2
    # equal area and peak: the first in raster order (top-most) wins
    assert box_from_cam(cam, 0.5, stride=1).tolist() == [1, 1, 3, 2]
    cam[3, 7] = 2.5  # right blob now has the higher peak (both still >= 1.25)
    assert box_from_cam(cam, 0.5, stride=1).tolist() == [6, 3, 8, 4]


def test_cam_connectivity():
    cam = torch.zeros(4, 4)
    cam[0, 0] = cam[1, 1] = cam[2, 2] = 1.0  # a diagonal: one 8-connected component
    cam[3, 0] = 1.0
    assert box_from_cam(cam, 0.5, stride=1, connectivity=8).tolist() == [0, 0, 3, 3]
    # 4-connectivity: four single pixels; the first in raster order wins
    assert box_from_cam(cam, 0.5, stride=1, connectivity=4).tolist() == [0, 0, 1, 1]


def test_cam_empty_and_minmax():
    assert box_from_cam(torch.zeros(3, 3), 0.2, stride=1).tolist() == EMPTY
    assert box_from_cam(-torch.ones(3, 3), 0.2, stride=1).tolist() == EMPTY  # max <= 0
    assert box_from_cam(torch.ones(3, 3), 0.2, stride=1, normalize='minmax').tolist() == EMPTY
    negative = torch.full((3, 4), -5.0)
    negative[1, 2] = -1.0
    negative[2, 3] = -2.0  # (x + 5) / 4: 0.75 at (2,3), 1 at (1,2): 8-connected
    assert box_from_cam(negative, 0.5, stride=1, normalize='minmax').tolist() == [2, 1, 4, 3]
    assert box_from_cam(negative, 0.9, stride=1, normalize='minmax').tolist() == [2, 1, 3, 2]
    with pytest.raises(ValueError, match=r'in \[0, 1\]'):
        box_from_cam(negative, 1.5, stride=1)


def test_cam_upsampling_at_stride_8_by_hand():
    """One hot cell (1, 1) of a 4 x 4 map, value 1. Bilinear x8 (align_corners=False): pixel x
    samples the map at u = (x + 0.5) / 8 - 0.5, so the hot cell's weight along x is
    w(x) = max(0, 1 - |u - 1|): x = 7 -> 0.4375, 8 -> 0.5625, 10 -> 0.8125, 11, 12 -> 0.9375,
    15 -> 0.5625, 16 -> 0.4375; the map is w(x) w(y), its max 0.9375^2."""
    cam = torch.zeros(4, 4)
    cam[1, 1] = 1.0
    up = upsample_cam(cam, 8)
    w = lambda x: max(0.0, 1 - abs((x + 0.5) / 8 - 0.5 - 1))  # noqa: E731
    assert up.shape == (32, 32)
    assert up[11, 12].item() == pytest.approx(w(11) * w(12))
    assert up.max().item() == pytest.approx(0.9375**2)
    # t = 0.5: keep w(x) w(y) >= 0.4394; on the best row w(y) = 0.9375 so w(x) >= 0.46875:
    # x = 8..15 (w(7) = 0.4375 fails): the box is the cell itself
    assert box_from_cam(cam, 0.5, stride=8).tolist() == [8, 8, 16, 16]
    # t = 0.9: w(x) >= 0.84375 on the best row: x = 11, 12 only
    assert box_from_cam(cam, 0.9, stride=8).tolist() == [11, 11, 13, 13]
    # the input may be smaller than the map covers: crop to 30 x 13, then threshold
    assert box_from_cam(cam, 0.5, stride=8, input_size=(30, 13)).tolist() == [8, 8, 13, 16]


def test_localize_dispatches_both_protocols():
    cm = paper_map()
    assert torch.equal(
        localize(cm, [1, 2], 'paper', 1.0), boxes_from_class_map_paper(cm, [1, 2], 1.0))
    cam_boxes = localize(cm, [1], 'cam', 0.9, normalize='max')
    assert torch.equal(cam_boxes[0], box_from_cam(cm[1], 0.9))
    with pytest.raises(ValueError, match='valid protocols'):
        localize(cm, 1, 'grabcut')


def test_box_iou_and_box_from_mask():
    iou = box_iou(
        torch.tensor([[0, 0, 10, 10], [0, 0, 0, 0]]),
        torch.tensor([[5, 5, 15, 15], [0, 0, 10, 10], [0, 0, 0, 0]]))
    # 25 / (100 + 100 - 25) = 1/7; identical = 1; empty boxes: 0, even against each other
    assert iou.flatten().tolist() == pytest.approx([1 / 7, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert box_iou(torch.tensor([0, 0, 4, 2]), torch.tensor([2, 0, 6, 2])).item() == \
        pytest.approx(4 / 12)
    mask = np.zeros((5, 6), dtype=bool)
    assert box_from_mask(mask).tolist() == EMPTY
    mask[1, 2] = mask[3, 4] = True
    assert box_from_mask(mask).tolist() == [2, 1, 5, 4]
    assert largest_component(np.zeros((2, 2), bool)).sum() == 0


def run_pipeline(steps, height, width, tmp_path):
    from loc_data import write_image
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope

    import drn_mm  # noqa: F401
    path = str(tmp_path / 'img.png')
    write_image(path, height, width)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        data = Compose(steps)(dict(img_path=path))
    return data['data_samples'].metainfo


META_KEYS = ('ori_shape', 'img_shape', 'scale_factor', 'flip', 'crop_offset', 'pre_crop_shape',
             'img_path')


def test_geometry_of_a_resize(tmp_path):
    meta = run_pipeline([
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(50, 50)),
        dict(type='PackInputs', meta_keys=META_KEYS)
    ], 100, 200, tmp_path)
    geometry = geometry_from_metainfo(meta)
    # x: 200 -> 50 (x 1/4), y: 100 -> 50 (x 1/2)
    assert geometry == ImageGeometry((100, 200), (0.25, 0.5), (0.0, 0.0))
    assert box_to_original(torch.tensor([10., 10., 20., 20.]),
                           geometry).tolist() == [40, 20, 80, 40]
    assert box_to_original(torch.zeros(4), geometry).tolist() == EMPTY


def test_geometry_of_resize_edge_and_recorded_center_crop(tmp_path):
    meta = run_pipeline([
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=64, edge='short'),
        dict(type='CenterCropWithOffset', crop_size=64),
        dict(type='PackInputs', meta_keys=META_KEYS)
    ], 100, 200, tmp_path)
    # 100 x 200 -> 64 x 128 -> crop 64 x 64 at x = 32
    assert tuple(meta['crop_offset']) == (32, 0) and tuple(meta['img_shape']) == (64, 64)
    geometry = geometry_from_metainfo(meta)
    # (x_in + 32) / 0.64: 0 -> 50, 64 -> 150; y / 0.64: 64 -> 100
    assert box_to_original(torch.tensor([0., 0., 64., 64.]), geometry).tolist() == \
        pytest.approx([50, 0, 150, 100])


def test_geometry_refuses_an_unrecorded_crop(tmp_path):
    meta = run_pipeline([
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=64, edge='short'),
        dict(type='CenterCrop', crop_size=64),
        dict(type='PackInputs', meta_keys=META_KEYS)
    ], 100, 200, tmp_path)
    with pytest.raises(ValueError, match='CenterCropWithOffset'):
        geometry_from_metainfo(meta)
    with pytest.raises(ValueError, match='flipped'):
        geometry_from_metainfo(dict(ori_shape=(4, 4), img_shape=(4, 4), flip=True))

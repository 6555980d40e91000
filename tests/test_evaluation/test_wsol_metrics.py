"""MaxBoxAccV2 and PxAP (Choe et al. 2020) against values computed by hand on small maps."""
import numpy as np
import pytest

from drn_mm.evaluation.wsol import (PxAPAccumulator, best_ious, box_iou_matrix, component_boxes,
                                    max_box_acc, normalize_cam, pixel_counts, pxap,
                                    pxap_from_counts, thresholds)


def test_thresholds_and_normalization():
    taus = thresholds()
    assert len(taus) == 100 and taus[0] == 0 and taus[-1] == pytest.approx(0.99)
    np.testing.assert_allclose(normalize_cam([[2.0, 4.0], [6.0, 10.0]]), [[0, 0.25], [0.5, 1]])
    assert not normalize_cam(np.full((3, 3), 7.0)).any()


def test_component_boxes_are_half_open_pixel_extents():
    mask = np.zeros((6, 8), bool)
    mask[1:3, 1:4] = True  # 2 x 3 pixels: box [1, 1, 4, 3)
    mask[4, 6] = True  # one pixel: [6, 4, 7, 5)
    boxes = component_boxes(mask)
    assert sorted(map(tuple, boxes.tolist())) == [(1, 1, 4, 3), (6, 4, 7, 5)]
    assert component_boxes(mask, largest_only=True).tolist() == [[1, 1, 4, 3]]
    # diagonal neighbours are one component (8-connectivity)
    diag = np.eye(3, dtype=bool)
    assert component_boxes(diag).tolist() == [[0, 0, 3, 3]]


def test_box_iou_by_hand():
    # [0,0,4,4) area 16 and [2,2,6,6) area 16 overlap in a 2x2 square: 4 / 28
    assert box_iou_matrix([[0, 0, 4, 4]], [[2, 2, 6, 6]])[0, 0] == pytest.approx(4 / 28)
    assert box_iou_matrix([[0, 0, 2, 2]], [[2, 2, 4, 4]])[0, 0] == 0.0


def test_max_box_acc_v2_by_hand():
    """Two 4x4 images (normalized CAMs given directly: min 0, max 1).
    Image A, GT box [0,0,4,4): 1 on [0,0,2,2), 0.5 elsewhere but 0 at pixel (3,3).
    Image B, GT box [0,0,2,2): 1 on [0,0,2,2), 0.6 at pixel (3,3), 0 elsewhere."""
    cam_a_full = np.full((4, 4), 0.5)
    cam_a_full[:2, :2] = 1.0
    cam_a_full[3, 3] = 0.0
    gt_a = np.array([[0, 0, 4, 4]])
    cam_b = np.zeros((4, 4))
    cam_b[:2, :2] = 1.0
    cam_b[3, 3] = 0.6
    gt_b = np.array([[0, 0, 2, 2]])
    taus = np.array([0.0, 0.3, 0.5, 0.55, 0.7, 0.9])
    a = best_ious(cam_a_full, gt_a, taus)
    # tau 0: everything -> [0,0,4,4): 1; tau 0.3 and 0.5: the 0.5 region minus (3,3) still spans
    # [0,0,4,4) (connected) -> 1; tau 0.55, 0.7, 0.9: [0,0,2,2) -> 0.25
    np.testing.assert_allclose(a, [1, 1, 1, 0.25, 0.25, 0.25])
    b = best_ious(cam_b, gt_b, taus)
    # tau 0: the whole map [0,0,4,4) -> 4/16; tau 0.3, 0.5, 0.55: two components, best 1; 0.7,
    # 0.9: one component -> 1
    np.testing.assert_allclose(b, [0.25, 1, 1, 1, 1, 1])
    result = max_box_acc([a, b], taus)
    # delta 0.3 / 0.5 / 0.7: both images correct at tau 0.3 and 0.5 -> 100 %, first best tau 0.3
    assert result['MaxBoxAcc@30'] == 100.0 and result['MaxBoxAcc@30_tau'] == 0.3
    assert result['MaxBoxAcc@70'] == 100.0
    assert result['MaxBoxAccV2'] == 100.0
    # V1 (largest component only) on B at tau 0.3: largest is [0,0,2,2) -> still 1
    assert best_ious(cam_b, gt_b, taus, largest_only=True)[1] == 1.0
    # with a stricter set: image B scored by a CAM that only marks the far pixel
    cam_bad = np.zeros((4, 4))
    cam_bad[3, 3] = 1.0
    bad = best_ious(cam_bad, gt_b, taus)
    np.testing.assert_allclose(bad, [0.25, 0, 0, 0, 0, 0])
    result = max_box_acc([a, bad], taus)
    assert result['MaxBoxAcc@30'] == 50.0 and result['MaxBoxAcc@50'] == 50.0
    assert result['MaxBoxAccV2'] == 50.0


def test_pxap_by_hand():
    """One 1x4 map [0, 1/3, 2/3, 1] with mask [F, F, T, T] at taus 0, 0.5:
    tau 0.5: on = pixels 2, 3: TP 2, FP 0: P 1, R 1; tau 0: all on: TP 2, FP 2: P 0.5, R 1.
    From the highest tau: 1 * (1 - 0) + 0.5 * (1 - 1) = 1 -> 100 %."""
    cam = np.array([[0.0, 1 / 3, 2 / 3, 1.0]])
    mask = np.array([[False, False, True, True]])
    assert pxap([(cam, mask)], taus=[0.0, 0.5]) == pytest.approx(100.0)
    # mask [F, T, F, T]: tau 0.5 -> on {2, 3}: TP 1, FP 1: P 0.5, R 0.5; tau 0.25 -> on {1,2,3}:
    # TP 2, FP 1: P 2/3, R 1; tau 0 -> P 0.5, R 1. AP = 0.5 * 0.5 + 2/3 * 0.5 + 0.5 * 0 = 7/12
    acc = PxAPAccumulator(taus=[0.0, 0.25, 0.5])
    acc.add(cam, np.array([[False, True, False, True]]))
    ap, precision, recall = acc.compute()
    assert ap == pytest.approx(700 / 12)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [1, 1, 0.5])
    with pytest.raises(ValueError, match='differ in size'):
        acc.add(cam, np.zeros((2, 2), bool))
    # the same from counts, and the best pixel IoU tp / (fp + positives): tau 0.5: 1 / 3,
    # tau 0.25: 2 / 3, tau 0: 2 / 4 -> PIoU 66.7 % at tau 0.25
    tp, fp, positives = pixel_counts(cam, np.array([[False, True, False, True]]), [0, 0.25, 0.5])
    assert tp.tolist() == [2, 2, 1] and fp.tolist() == [2, 1, 1] and positives == 2
    result = pxap_from_counts(tp, fp, positives, [0, 0.25, 0.5])
    assert result['PxAP'] == pytest.approx(700 / 12)
    assert result['PIoU'] == pytest.approx(200 / 3) and result['PIoU_tau'] == 0.25

"""Class activation maps of a DRN classifier drawn over the image (tools/vis_cam.py)."""
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..apis import predict_image
from ..evaluation.localization import (box_to_original, geometry_from_metainfo, localize,
                                       upsample_cam)

__all__ = ['cam_on_original', 'draw_localization', 'visualize_cam']


def cam_on_original(cam, geometry, stride: int = 8, input_size=None) -> np.ndarray:
    """(h, w) class map at ``stride`` -> (H, W) map over the original image (float32).

    The map is upsampled to the input (bilinear,
    :func:`drn_mm.evaluation.localization.upsample_cam`) and
    then sampled at every original pixel through the pipeline's geometry; pixels the input did
    not show (outside a crop) get the map's minimum.
    """
    import cv2

    up = upsample_cam(cam, stride, input_size).cpu().numpy().astype(np.float32)
    ori_h, ori_w = geometry.ori_shape
    (sx, sy), (ox, oy) = geometry.scale, geometry.offset
    xs = (np.arange(ori_w, dtype=np.float32) + 0.5) * sx - ox - 0.5
    ys = (np.arange(ori_h, dtype=np.float32) + 0.5) * sy - oy - 0.5
    map_x, map_y = np.meshgrid(xs, ys)
    return cv2.remap(up, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=float(up.min()))


def draw_localization(image: np.ndarray, cam: Optional[np.ndarray], box: Optional[Sequence[float]],
                      caption: str = '', gt_boxes: Sequence[Sequence[float]] = (),
                      alpha: float = 0.5) -> np.ndarray:
    """Overlay a class map (jet colours), the predicted box (green), ground-truth boxes (red)
    and a caption on an RGB image.

    Args:
        image: (H, W, 3) uint8 RGB.
        cam: (H, W) map over the image (values <= 0 are cold; scaled by its maximum), or None.
        box: predicted ``(x1, y1, x2, y2)`` (exclusive ends, pixels) or None / empty.
        caption: text drawn at the top-left.
        gt_boxes: ground-truth boxes, same convention.
        alpha: weight of the heat map.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    import cv2

    canvas = np.asarray(image, dtype=np.uint8)
    if cam is not None:
        heat = np.clip(np.asarray(cam, dtype=np.float32), 0, None)
        peak = float(heat.max())
        heat = heat / peak if peak > 0 else heat
        colored = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
        canvas = (canvas * (1 - alpha) + colored * alpha).round().astype(np.uint8)
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)

    def rectangle(b, color):
        x1, y1, x2, y2 = (float(v) for v in b)
        if x2 > x1 and y2 > y1:  # the empty box (0, 0, 0, 0) is not drawn
            draw.rectangle([x1, y1, x2 - 1, y2 - 1], outline=color, width=2)

    for gt in gt_boxes:
        rectangle(gt, (255, 0, 0))
    if box is not None:
        rectangle(box, (0, 255, 0))
    if caption:
        left, top, right, bottom = draw.textbbox((2, 2), caption)
        draw.rectangle([left - 2, top - 2, right + 2, bottom + 2], fill=(0, 0, 0))
        draw.text((2, 2), caption, fill=(255, 255, 255))
    return np.asarray(picture)


def visualize_cam(model, image: str, out: str, protocol: str = 'paper',
                  threshold: Optional[float] = None, stride: int = 8,
                  gt_boxes: Sequence[Sequence[float]] = ()) -> dict:
    """Classify one image, localize its top class and save the overlay as a PNG.

    Args:
        model: from :func:`init_classifier`.
        image: image file.
        out: PNG path to write.
        protocol, threshold, stride: as :class:`drn_mm.evaluation.LocalizationMetric`.
        gt_boxes: ground-truth boxes in original pixels (exclusive ends), drawn in red.

    Returns:
        dict: ``label`` (int), ``class_name``, ``score``, ``box`` (original pixels; all zeros
        when nothing was found), ``out``.
    """
    sample = predict_image(model, image)
    meta = sample.metainfo
    geometry = geometry_from_metainfo(meta)
    cam = sample.pred_cam.float().cpu()
    label = int(sample.pred_label.reshape(-1)[0])
    score = float(sample.pred_score[label])
    input_size = tuple(meta['img_shape'][:2])
    box = box_to_original(
        localize(cam, [label], protocol, threshold, stride, input_size)[0], geometry)
    classes = model.dataset_meta.get('classes')
    name = classes[label] if classes is not None and len(classes) == cam.shape[0] else str(label)
    import mmcv
    rgb = mmcv.imread(image, channel_order='rgb')  # as the pipeline read it (same ori_shape)
    picture = draw_localization(rgb, cam_on_original(cam[label], geometry, stride, input_size),
                                box.tolist(), caption=f'{name} ({score:.2f})', gt_boxes=gt_boxes)
    Image.fromarray(picture).save(out)
    return dict(label=label, class_name=name, score=score, box=box.tolist(), out=out)

"""Pictures: image / ground truth / prediction side by side."""
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .apis import colorize


def comparison_grid(rows: Sequence[Sequence[np.ndarray]], titles: Sequence[str],
                    gap: int = 4) -> np.ndarray:
    """Tile rows of equally sized RGB images (H, W, 3) with a title strip; returns uint8 RGB."""
    h, w = rows[0][0].shape[:2]
    cols = len(rows[0])
    strip = 14
    canvas = Image.new('RGB', (cols * w + (cols - 1) * gap, strip + len(rows) * (h + gap) - gap),
                       (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, title in enumerate(titles):
        draw.text((c * (w + gap) + 2, 1), title, fill=(0, 0, 0))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            canvas.paste(Image.fromarray(tile), (c * (w + gap), strip + r * (h + gap)))
    return np.asarray(canvas)


def save_segmentation_comparison(path: str, images: Sequence[np.ndarray],
                                 labels: Sequence[np.ndarray], predictions: Sequence[np.ndarray],
                                 palette: Sequence[Sequence[int]],
                                 titles: Optional[Sequence[str]] = None) -> None:
    """Write a PNG with one row per image: image | ground truth | prediction (ignore = black)."""
    rows = [[np.asarray(img, dtype=np.uint8), colorize(gt, palette), colorize(pred, palette)]
            for img, gt, pred in zip(images, labels, predictions)]
    grid = comparison_grid(rows, titles or ('image', 'ground truth', 'prediction'))
    Image.fromarray(grid).save(path)


def show_dataset_predictions(config: str, checkpoint: str, out: str, num: int = 4,
                             split: str = 'test', device: str = 'cpu',
                             cfg_options: Optional[dict] = None) -> dict:
    """Predict the first ``num`` images of a config's ``split`` dataloader and save the
    image | ground truth | prediction picture to ``out``. Returns per-image pixel accuracy."""
    from mmengine.config import Config
    from mmseg.registry import DATASETS

    from .apis import init_segmentor, segment_image
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    dataset_cfg = cfg[f'{split}_dataloader'].dataset
    dataset_cfg.pipeline = []
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise ValueError(f'the {split} split of {config} has no images')
    model = init_segmentor(config, checkpoint, device=device, cfg_options=cfg_options)
    images, labels, preds, accuracy = [], [], [], {}
    for i in range(min(num, len(dataset))):
        info = dataset.get_data_info(i)
        image = np.asarray(Image.open(info['img_path']).convert('RGB'))
        label = np.asarray(Image.open(info['seg_map_path']))
        pred = segment_image(model, info['img_path'])
        valid = label != 255
        accuracy[info['img_path']] = float((pred[valid] == label[valid]).mean())
        images.append(image)
        labels.append(label)
        preds.append(pred)
    save_segmentation_comparison(out, images, labels, preds, model.dataset_meta['palette'])
    return accuracy


# --------------------------------------------------------------------------------------------
# Class activation maps of a DRN classifier (tools/vis_cam.py)
# --------------------------------------------------------------------------------------------

def init_classifier(config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                    cfg_options: Optional[dict] = None):
    """An mmpretrain ``ImageClassifier`` with ``CAMHead(with_cam=True)``, loaded with drn_mm's
    loader (drn_mm checkpoints, the authors' ImageNet files and torchvision ResNets for DRN-A).

    Args:
        config (str): a classification or localization config (``default_scope='mmpretrain'``).
        checkpoint (str, optional): weights; without it the model keeps its initialization.
        device (str): 'cpu', 'cuda', ...
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` (``classes`` when known).
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS, MODELS

    from .apis import load_model_checkpoint
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    head = cfg.model.get('head', {})
    if head.get('type') != 'CAMHead':
        raise ValueError(f'{config}: model.head is {head.get("type")!r}; class activation maps '
                         'need CAMHead (e.g. configs/drn/drn_c_26_in1k_localization.py)')
    head['with_cam'] = True
    cfg.model.backbone.pop('init_cfg', None)  # the checkpoint gives the weights
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    meta = {}
    if checkpoint is not None:
        meta = load_model_checkpoint(model, checkpoint).get('meta', {}) or {}
    else:
        model.init_weights()
    dataset_meta = dict(meta.get('dataset_meta') or {})
    if 'classes' not in dataset_meta:
        dataset_cls = DATASETS.get(cfg.test_dataloader.dataset.type)
        classes = getattr(dataset_cls, 'METAINFO', {}).get('classes')
        if classes is not None:
            dataset_meta['classes'] = tuple(classes)
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def predict_image(model, image: str):
    """Run the config's test pipeline and the model on one image file.

    Returns:
        The model's ``DataSample``: ``pred_score`` (C,), ``pred_label``, ``pred_cam`` (C, h, w)
        and the pipeline's metainfo (``ori_shape``, ``img_shape``, ``scale_factor``, ...).
    """
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    steps = [dict(step) for step in model.cfg.test_dataloader.dataset.pipeline]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(steps)
        data = pipeline(dict(img_path=image))
        with torch.no_grad():
            return model.test_step(pseudo_collate([data]))[0]


def cam_on_original(cam, geometry, stride: int = 8, input_size=None) -> np.ndarray:
    """(h, w) class map at ``stride`` -> (H, W) map over the original image (float32).

    The map is upsampled to the input (bilinear, :func:`drn_mm.localization.upsample_cam`) and
    then sampled at every original pixel through the pipeline's geometry; pixels the input did
    not show (outside a crop) get the map's minimum.
    """
    import cv2

    from .localization import upsample_cam
    up = upsample_cam(cam, stride, input_size).cpu().numpy().astype(np.float32)
    ori_h, ori_w = geometry.ori_shape
    (sx, sy), (ox, oy) = geometry.scale, geometry.offset
    xs = (np.arange(ori_w, dtype=np.float32) + 0.5) * sx - ox - 0.5
    ys = (np.arange(ori_h, dtype=np.float32) + 0.5) * sy - oy - 0.5
    map_x, map_y = np.meshgrid(xs, ys)
    return cv2.remap(up, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=float(up.min()))


def draw_localization(image: np.ndarray, cam: Optional[np.ndarray],
                      box: Optional[Sequence[float]], caption: str = '',
                      gt_boxes: Sequence[Sequence[float]] = (), alpha: float = 0.5) -> np.ndarray:
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
    from .localization import box_to_original, geometry_from_metainfo, localize
    sample = predict_image(model, image)
    meta = sample.metainfo
    geometry = geometry_from_metainfo(meta)
    cam = sample.pred_cam.float().cpu()
    label = int(sample.pred_label.reshape(-1)[0])
    score = float(sample.pred_score[label])
    input_size = tuple(meta['img_shape'][:2])
    box = box_to_original(localize(cam, [label], protocol, threshold, stride, input_size)[0],
                          geometry)
    classes = model.dataset_meta.get('classes')
    name = classes[label] if classes is not None and len(classes) == cam.shape[0] else str(label)
    import mmcv
    rgb = mmcv.imread(image, channel_order='rgb')  # as the pipeline read it (same ori_shape)
    picture = draw_localization(
        rgb,
        cam_on_original(cam[label], geometry, stride, input_size), box.tolist(),
        caption=f'{name} ({score:.2f})', gt_boxes=gt_boxes)
    Image.fromarray(picture).save(out)
    return dict(label=label, class_name=name, score=score, box=box.tolist(), out=out)

"""Segmentation pictures: label maps in colour; image / ground truth / prediction side by side."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..apis import init_segmentor, read_config, segment_image

__all__ = [
    'colorize', 'comparison_grid', 'save_segmentation_comparison', 'show_dataset_predictions'
]


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]], ignore_color=(0, 0, 0)):
    """(H, W) label map -> (H, W, 3) uint8 RGB image; labels outside the palette get
    ``ignore_color``."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:] = ignore_color
    lut[:len(palette)] = np.asarray(palette, dtype=np.uint8)
    return lut[np.clip(label, 0, 255).astype(np.int64)]


def read_rgb(path: str) -> np.ndarray:
    """An image file as the test pipeline reads it (mmcv, EXIF orientation applied, 16-bit and
    gray files as 8-bit RGB), so pictures line up with the predictions drawn over them."""
    import mmcv
    return mmcv.imread(path, flag='color', channel_order='rgb')


def overlay_segmentation(image: str, label: np.ndarray, palette: Sequence[Sequence[int]],
                         opacity: float = 1.0) -> np.ndarray:
    """The coloured label map blended over ``image`` (a file): ``opacity`` 1 is the mask alone.
    Returns (H, W, 3) uint8 RGB."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f'opacity={opacity} must be within [0, 1]')
    mask = colorize(label, palette).astype(np.float32)
    rgb = read_rgb(image).astype(np.float32)
    if rgb.shape[:2] != mask.shape[:2]:
        raise ValueError(f'{image} is {rgb.shape[1]}x{rgb.shape[0]} as read (EXIF orientation '
                         f'applied) but the prediction is {mask.shape[1]}x{mask.shape[0]}')
    return (opacity * mask + (1 - opacity) * rgb).round().astype(np.uint8)


def save_png(path: str, rgb: np.ndarray) -> str:
    """Write ``rgb`` as a PNG at ``path`` (whatever its extension), creating its folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(rgb).save(path, format='PNG')
    return path


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
    rows = [[np.asarray(img, dtype=np.uint8),
             colorize(gt, palette),
             colorize(pred, palette)] for img, gt, pred in zip(images, labels, predictions)]
    grid = comparison_grid(rows, titles or ('image', 'ground truth', 'prediction'))
    save_png(path, grid)


def show_dataset_predictions(config: str, checkpoint: str, out: str, num: int = 4,
                             split: str = 'test', device: str = 'cpu',
                             cfg_options: Optional[dict] = None) -> dict:
    """Predict the first ``num`` images of a config's ``split`` dataloader and save the
    image | ground truth | prediction picture to ``out``. Returns per-image pixel accuracy."""
    from mmseg.registry import DATASETS

    if num < 1:
        raise ValueError(f'num={num}: the picture needs at least one image')
    cfg = read_config(config, cfg_options)
    dataset_cfg = cfg[f'{split}_dataloader'].dataset
    dataset_cfg.pipeline = []
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise ValueError(f'the {split} split of {config} has no images')
    model = init_segmentor(config, checkpoint, device=device, cfg_options=cfg_options)
    images, labels, preds, accuracy = [], [], [], {}
    for i in range(min(num, len(dataset))):
        info = dataset.get_data_info(i)
        image = read_rgb(info['img_path'])
        label = np.asarray(Image.open(info['seg_map_path']))
        pred = segment_image(model, info['img_path'])
        valid = label != 255
        accuracy[info['img_path']] = float((pred[valid] == label[valid]).mean())
        images.append(image)
        labels.append(label)
        preds.append(pred)
    save_segmentation_comparison(out, images, labels, preds, model.dataset_meta['palette'])
    return accuracy

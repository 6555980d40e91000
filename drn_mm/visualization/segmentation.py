"""Segmentation pictures: label maps in colour; image / ground truth / prediction side by side."""
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
    Image.fromarray(grid).save(path)


def show_dataset_predictions(config: str, checkpoint: str, out: str, num: int = 4,
                             split: str = 'test', device: str = 'cpu',
                             cfg_options: Optional[dict] = None) -> dict:
    """Predict the first ``num`` images of a config's ``split`` dataloader and save the
    image | ground truth | prediction picture to ``out``. Returns per-image pixel accuracy."""
    from mmseg.registry import DATASETS

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

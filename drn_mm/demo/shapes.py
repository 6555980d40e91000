"""A deterministic generator of a small localization data set in the CUB-200-2011 layout.

Each image holds exactly ONE object of one of five classes on a cluttered, textured background:

==  ====================  ===========================================================
0   ``striped_disc``      a disc filled with two-colour stripes at a random angle
1   ``checkered_square``  a rotated square with a two-colour checkerboard
2   ``dotted_triangle``   a rotated equilateral triangle with a grid of dots
3   ``hatched_ring``      an annulus with cross-hatching (two sets of lines)
4   ``speckled_cross``    a rotated plus sign with random two-colour speckles
==  ====================  ===========================================================

The object has a random position, scale (bounding radius 14-34 px on 96 x 96), rotation and
colours (the colours say nothing about the class: the shape and texture do). Each class has its
own texture as well as its own shape, so that a small patch of the object already tells the
class (as the parts of a bird do in CUB): that is what makes a class map follow the object (in
our runs a flat, untextured class became the "nothing else here" class, with its map on the
background). The background is a smooth colour field with fine noise and 6-14 random line
segments and blobs in muted colours; the object is drawn on top, so it is never occluded and
its box is known exactly: the smallest box containing every object pixel (pixel centres inside
the shape), written in CUB's ``x y width height`` convention (``x, y`` the top-left pixel, so
the box is ``(x, y, x + width, y + height)`` with exclusive ends, as
:class:`~drn_mm.datasets.CUBLocalization` reads it).

Layout written under ``root`` (exactly the files :class:`~drn_mm.datasets.CUBLocalization`
reads, plus CUB's ``classes.txt``)::

    images/001.striped_disc/striped_disc_0001.jpg ...
    masks/001.striped_disc/striped_disc_0001.png   the object's exact mask (255 on it, 0 off:
                                                    pixel centres inside the shape), for PxAP
    images.txt              "<image_id> <path under images/>"
    image_class_labels.txt  "<image_id> <class_id>"          (1-based)
    train_test_split.txt    "<image_id> <1: train, 0: test>"
    bounding_boxes.txt      "<image_id> <x> <y> <width> <height>"
    classes.txt             "<class_id> <folder name>"

Image ``image_id`` is rendered by :func:`render_sample` from ``(seed, image_id)`` alone, so any
image can be reproduced (with its object mask) without the others.

Command line::

    python -m drn_mm.demo.shapes --out data/demo_shapes \\
        [--num-train 120 --num-test 40 --size 96 96 --seed 0]
"""
import argparse
import colorsys
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    'CLASSES', 'generate_demo_shapes_cub', 'render_sample', 'render_object', 'box_from_object_mask'
]

#: class index -> name (the CUB folder is ``f'{index + 1:03d}.{name}'``)
CLASSES = ('striped_disc', 'checkered_square', 'dotted_triangle', 'hatched_ring', 'speckled_cross')

#: bounding radius of the object (distance from its centre to its farthest point) as fractions
#: of min(H, W): 14-34 px on 96 x 96
RADIUS_RANGE = (0.15, 0.355)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32) * 255


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth low-saturation colour field + fine noise + random lines and blobs (float32)."""
    base = _hsv(rng.random(), rng.uniform(0.0, 0.3), rng.uniform(0.35, 0.7))
    coarse = rng.normal(0, 28, (6, 6, 3)).astype(np.float32)
    smooth = np.stack([
        np.asarray(Image.fromarray(coarse[..., c]).resize((width, height), Image.BICUBIC))
        for c in range(3)
    ], axis=-1)
    image = base + smooth + rng.normal(0, 10, (height, width, 3)).astype(np.float32)
    canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(6, 15))):
        color = tuple(
            int(v) for v in _hsv(rng.random(), rng.uniform(0.0, 0.55), rng.uniform(0.15, 0.9)))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if rng.random() < 0.6:  # a line segment
            angle, length = rng.uniform(0, np.pi), rng.uniform(8, 0.45 * max(height, width))
            dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
            draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=color,
                      width=int(rng.integers(1, 4)))
        else:  # a blob
            rx, ry = rng.uniform(2, 6), rng.uniform(2, 6)
            draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=color)
    return np.asarray(canvas, dtype=np.float32)


def _object_colors(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """A saturated colour and a contrasting second colour (for stripes / checkers)."""
    hue = rng.random()
    first = _hsv(hue, rng.uniform(0.65, 1.0), rng.uniform(0.75, 1.0))
    if rng.random() < 0.5:
        second = _hsv(hue + rng.uniform(0.3, 0.7), rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0))
    else:
        second = _hsv(hue, rng.uniform(0.3, 1.0), rng.uniform(0.05, 0.3))
    return first, second


def render_object(label: int, dx: np.ndarray, dy: np.ndarray, radius: float,
                  rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Mask and colours of one object of class ``label``.

    Args:
        label (int): class index into :data:`CLASSES`.
        dx, dy: (H, W) offsets of the pixel centres from the object's centre.
        radius (float): bounding radius: no object pixel is farther than this from the centre.
        rng: random generator (rotation, texture, colours).

    Returns:
        (mask, colors): (H, W) bool, and (H, W, 3) float32 colours (meaningful under the mask).
    """
    theta = rng.uniform(0, 2 * np.pi)
    u = np.cos(theta) * dx + np.sin(theta) * dy  # object frame
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    first, second = _object_colors(rng)
    pattern = np.zeros(dx.shape, dtype=bool)  # True: second colour
    name = CLASSES[label]
    if name == 'striped_disc':
        mask = dx**2 + dy**2 <= radius**2
        period = 2 * radius / rng.integers(4, 7)
        pattern = np.floor(u / (period / 2)).astype(np.int64) % 2 == 1
    elif name == 'checkered_square':
        half = radius / np.sqrt(2)
        mask = (np.abs(u) <= half) & (np.abs(v) <= half)
        cell = 2 * half / rng.integers(3, 6)
        pattern = (np.floor((u + half) / cell) + np.floor(
            (v + half) / cell)).astype(np.int64) % 2 == 1
    elif name == 'dotted_triangle':
        # equilateral, circumradius = radius: inside the three edges' half-planes
        mask = np.ones(dx.shape, dtype=bool)
        for k in range(3):
            normal = theta + np.pi / 3 + 2 * np.pi * k / 3  # outward normal of edge k
            mask &= np.cos(normal) * dx + np.sin(normal) * dy <= radius / 2
        pitch = radius / rng.uniform(2.2, 3.0)
        du, dv = np.mod(u, pitch) - pitch / 2, np.mod(v, pitch) - pitch / 2
        pattern = du**2 + dv**2 <= (0.32 * pitch)**2
    elif name == 'hatched_ring':
        r2 = dx**2 + dy**2
        mask = (r2 <= radius**2) & (r2 >= (radius * rng.uniform(0.35, 0.55))**2)
        pitch = radius / rng.uniform(2.5, 3.2)
        pattern = ((np.abs(np.mod(u, pitch) - pitch / 2) <= 0.12 * pitch)
                   | (np.abs(np.mod(v, pitch) - pitch / 2) <= 0.12 * pitch))
    elif name == 'speckled_cross':
        arm = rng.uniform(0.25, 0.35)  # half width / half length
        length = radius / np.sqrt(1 + arm**2)  # corner (length, arm * length) on the circle
        bar_u = (np.abs(u) <= length) & (np.abs(v) <= arm * length)
        bar_v = (np.abs(v) <= length) & (np.abs(u) <= arm * length)
        mask = bar_u | bar_v
        grain = int(rng.integers(2, 4))  # speckles of grain x grain pixels
        height, width = dx.shape
        speckles = rng.random((height // grain + 1, width // grain + 1)) < 0.5
        pattern = np.kron(speckles, np.ones((grain, grain), dtype=bool))[:height, :width]
    else:
        raise ValueError(f'label {label} out of range for {len(CLASSES)} classes')
    colors = np.where(pattern[..., None], second, first).astype(np.float32)
    return mask, colors


def render_sample(
    label: int, size: Sequence[int] = (96, 96), seed: Sequence[int] = (0, )
) -> Tuple[np.ndarray, np.ndarray]:
    """One image of class ``label``: (H, W, 3) uint8 RGB and the object's (H, W) bool mask.

    Deterministic in ``(label, size, seed)``; :func:`generate_demo_shapes_cub` uses
    ``seed=(seed, image_id)``.
    """
    height, width = int(size[0]), int(size[1])
    if not 0 <= label < len(CLASSES):
        raise ValueError(f'label {label} out of range for {len(CLASSES)} classes')
    rng = np.random.default_rng(list(seed))
    image = _background(rng, height, width)
    short = min(height, width)
    radius = rng.uniform(*RADIUS_RANGE) * short
    # the whole object (within its bounding radius) stays at least one pixel inside the image
    cx = rng.uniform(radius + 1, width - radius - 1)
    cy = rng.uniform(radius + 1, height - radius - 1)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    mask, colors = render_object(label, xs - cx, ys - cy, radius, rng)
    shade = 1 + 0.15 * ((xs - cx) * rng.uniform(-1, 1) + (ys - cy) * rng.uniform(-1, 1)) / radius
    image = np.where(mask[..., None], colors * shade[..., None].astype(np.float32), image)
    image = image + rng.normal(0, 4, image.shape).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).round().astype(np.uint8), mask


def box_from_object_mask(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """CUB box ``(x, y, width, height)`` of a non-empty (H, W) mask: the smallest box holding
    every True pixel (``x + width`` is one past the right-most column)."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        raise ValueError('empty object mask')
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def generate_demo_shapes_cub(root: str, num_per_class_train: int, num_per_class_test: int,
                             size: Sequence[int] = (96, 96), seed: int = 0) -> Dict:
    """Write the data set under ``root`` (see the module docstring).

    Args:
        root (str): output folder (created; the listed files are overwritten).
        num_per_class_train (int): training images per class.
        num_per_class_test (int): test images per class.
        size (Sequence[int]): (height, width) of every image.
        seed (int): seed of the whole data set.

    Returns:
        dict: ``root``, ``classes``, ``num_train``, ``num_test``, ``size``, ``seed``.
    """
    height, width = (int(s) for s in size)
    if min(height, width) < 32:
        raise ValueError(f'size={tuple(size)}: images must be at least 32 x 32')
    if num_per_class_train < 0 or num_per_class_test < 0:
        raise ValueError('image counts must be non-negative')
    files = {
        name: []
        for name in ('images.txt', 'image_class_labels.txt', 'train_test_split.txt',
                     'bounding_boxes.txt')
    }
    per_class = num_per_class_train + num_per_class_test
    image_id = 0
    for label, name in enumerate(CLASSES):
        folder = f'{label + 1:03d}.{name}'
        os.makedirs(osp.join(root, 'images', folder), exist_ok=True)
        # which images of the class are for training: a fixed shuffle, as CUB mixes them
        is_train = np.zeros(per_class, dtype=bool)
        is_train[:num_per_class_train] = True
        is_train = np.random.default_rng([seed, 10**6 + label]).permutation(is_train)
        for k in range(per_class):
            image_id += 1
            image, mask = render_sample(label, (height, width), (seed, image_id))
            rel = f'{folder}/{name}_{k + 1:04d}.jpg'
            Image.fromarray(image).save(osp.join(root, 'images', rel), quality=95,
                                        subsampling=0)  # 4:4:4: keep thin colour stripes
            mask_path = osp.join(root, 'masks', osp.splitext(rel)[0] + '.png')
            os.makedirs(osp.dirname(mask_path), exist_ok=True)
            Image.fromarray(mask.astype(np.uint8) * 255).save(mask_path)
            x, y, w, h = box_from_object_mask(mask)
            files['images.txt'].append(f'{image_id} {rel}')
            files['image_class_labels.txt'].append(f'{image_id} {label + 1}')
            files['train_test_split.txt'].append(f'{image_id} {int(is_train[k])}')
            files['bounding_boxes.txt'].append(f'{image_id} {x:.1f} {y:.1f} {w:.1f} {h:.1f}')
    files['classes.txt'] = [f'{c + 1} {c + 1:03d}.{name}' for c, name in enumerate(CLASSES)]
    for name, lines in files.items():
        with open(osp.join(root, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return dict(root=root, classes=CLASSES, num_train=num_per_class_train * len(CLASSES),
                num_test=num_per_class_test * len(CLASSES), size=(height, width), seed=seed)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Generate the demo shapes data set in the CUB-200-2011 layout (drn_mm)')
    parser.add_argument('--out', required=True, help='output folder, e.g. data/demo_shapes')
    parser.add_argument('--num-train', type=int, default=120, help='training images per class')
    parser.add_argument('--num-test', type=int, default=40, help='test images per class')
    parser.add_argument('--size', type=int, nargs=2, default=(96, 96), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    summary = generate_demo_shapes_cub(args.out, args.num_train, args.num_test,
                                       size=tuple(args.size), seed=args.seed)
    print(f'{summary["root"]}: {summary["num_train"]} train + {summary["num_test"]} test images '
          f'of {summary["size"][0]}x{summary["size"][1]}, {len(CLASSES)} classes '
          f'({", ".join(CLASSES)}), seed {summary["seed"]}')
    return summary


if __name__ == '__main__':
    main()

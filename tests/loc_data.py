"""Tiny data sets with boxes, written by the tests: ImageNet val layout (per-image XML) and
CUB-200-2011 layout (bounding_boxes.txt and friends). Not collected by pytest."""
import os
import os.path as osp

import numpy as np
from PIL import Image


def write_image(path, height, width, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


def voc_xml(filename, height, width, objects):
    """objects: [(wnid, (x1, y1, x2, y2))] with exclusive ends; written as inclusive
    xmin..xmax (xmax = x2 - 1), as drn_mm reads them back."""
    parts = [
        f'<annotation><folder>val</folder><filename>{filename}</filename>',
        f'<size><width>{width}</width><height>{height}</height><depth>3</depth></size>'
    ]
    for wnid, (x1, y1, x2, y2) in objects:
        parts.append(f'<object><name>{wnid}</name><pose>Unspecified</pose><truncated>0'
                     f'</truncated><difficult>0</difficult><bndbox><xmin>{x1}</xmin>'
                     f'<ymin>{y1}</ymin><xmax>{x2 - 1}</xmax><ymax>{y2 - 1}</ymax></bndbox>'
                     '</object>')
    parts.append('</annotation>')
    return '\n'.join(parts)


def make_imagenet_val(root, images, wnids):
    """images: [dict(size=(H, W), label=int, boxes=[(x1, y1, x2, y2), ...])]; box names are the
    image's wnid. Returns the image file names in order."""
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    os.makedirs(osp.join(root, 'val_boxes'), exist_ok=True)
    names, lines = [], []
    for i, image in enumerate(images):
        stem = f'ILSVRC2012_val_{i + 1:08d}'
        height, width = image['size']
        write_image(osp.join(root, 'val', stem + '.JPEG'), height, width, seed=i)
        with open(osp.join(root, 'val_boxes', stem + '.xml'), 'w') as f:
            f.write(
                voc_xml(stem, height, width,
                        [(wnids[image['label']], box) for box in image['boxes']]))
        names.append(stem + '.JPEG')
        lines.append(f'{stem}.JPEG {image["label"]}')
    with open(osp.join(root, 'meta', 'val.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return names


def make_imagenet_train(root, wnids, per_class=2, size=(40, 48)):
    """train/<wnid>/<wnid>_<k>.JPEG and meta/train.txt."""
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    lines = []
    for label, wnid in enumerate(wnids):
        for k in range(per_class):
            rel = f'{wnid}/{wnid}_{k}.JPEG'
            write_image(osp.join(root, 'train', rel), *size, seed=100 + 10 * label + k)
            lines.append(f'{rel} {label}')
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def make_cub(root, images, num_classes=200):
    """images: [dict(size=(H, W), label=int (0-based), box=(x, y, w, h), train=bool)], in the
    CUB_200_2011 layout. Returns the image paths under images/ in order."""
    os.makedirs(root, exist_ok=True)
    classes = [f'{c + 1:03d}.Bird_{c + 1}' for c in range(num_classes)]
    files = {
        name: []
        for name in ('images.txt', 'image_class_labels.txt', 'train_test_split.txt',
                     'bounding_boxes.txt')
    }
    paths = []
    for i, image in enumerate(images):
        image_id = i + 1
        rel = f'{classes[image["label"]]}/Bird_{image["label"] + 1}_{image_id:04d}.jpg'
        write_image(osp.join(root, 'images', rel), *image['size'], seed=200 + i)
        files['images.txt'].append(f'{image_id} {rel}')
        files['image_class_labels.txt'].append(f'{image_id} {image["label"] + 1}')
        files['train_test_split.txt'].append(f'{image_id} {int(image["train"])}')
        x, y, w, h = image['box']
        files['bounding_boxes.txt'].append(f'{image_id} {x:.1f} {y:.1f} {w:.1f} {h:.1f}')
        paths.append(rel)
    files['classes.txt'] = [f'{c + 1} {name}' for c, name in enumerate(classes)]
    for name, lines in files.items():
        with open(osp.join(root, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return paths

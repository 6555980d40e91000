"""Street scenes in CamVid's SegNet layout (the Cityscapes demo's scenes, relabelled to CamVid's
11 classes), for trying and testing the CamVid configs without the real data.

Writes ``{train,val,test}/*.png`` and ``{train,val,test}annot/*.png`` under ``root``: one-channel
annotations, values 0-10 (:data:`~drn_mm.datasets.camvid.CAMVID_CLASSES`) and 11 for void, as the
CamVid release. Image ``i`` of a split is drawn from ``numpy.random.default_rng((seed, split, i))``.

    python -m drn_mm.demo.camvid --out data/camvid [--num 12 6 6 --size 96 128 --seed 0]
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from .cityscapes.render import _rasterize, _render
from .cityscapes.scene import _build_scene

__all__ = ['CITYSCAPES_TO_CAMVID', 'generate_demo_camvid', 'main']

#: Cityscapes label name -> CamVid class index (11 = void): the classes as CamVid groups them
CITYSCAPES_TO_CAMVID = {
    'sky': 0,
    'building': 1,
    'wall': 1,
    'pole': 2,
    'road': 3,
    'sidewalk': 4,
    'vegetation': 5,
    'terrain': 5,
    'traffic sign': 6,
    'traffic light': 6,
    'fence': 7,
    'car': 8,
    'truck': 8,
    'bus': 8,
    'train': 8,
    'person': 9,
    'rider': 10,
    'bicycle': 10,
    'motorcycle': 10,
    'unlabeled': 11,
    'ego vehicle': 11,
    'out of roi': 11,
    'static': 11
}
_SPLITS = ('train', 'val', 'test')
_MARKER = 'demo_camvid.json'


def generate_demo_camvid(root: str, num: Tuple[int, int, int] = (12, 6, 6),
                         size: Tuple[int, int] = (96, 128), seed: int = 0) -> Dict:
    """Write ``num`` (train, val, test) images of ``size`` (h, w) under ``root``; returns a
    summary with the class frequencies per split."""
    if len(num) != 3 or any(int(n) < 0 for n in num) or sum(num) == 0:
        raise ValueError(f'num must be three counts (train, val, test), not all 0; got {num!r}')
    h, w = int(size[0]), int(size[1])
    if h < 32 or w < 32:
        raise ValueError(f'size must be (height, width) >= 32, got {size!r}')
    root = osp.abspath(root)
    if osp.isdir(root) and os.listdir(root) and not osp.isfile(osp.join(root, _MARKER)):
        raise FileExistsError(f'{root} holds files this generator did not write; use an empty '
                              'folder')
    summary = dict(root=root, size=[h, w], seed=seed, num_images={}, class_freq={})
    for code, (split, count) in enumerate(zip(_SPLITS, num)):
        for folder in (split, split + 'annot'):
            os.makedirs(osp.join(root, folder), exist_ok=True)
        counts = np.zeros(12, np.int64)
        for index in range(int(count)):
            rng = np.random.default_rng((seed, code, index))
            scene = _build_scene(rng, h, w)
            inst = _rasterize(scene)
            image = _render(scene, inst, rng)
            of_inst = np.array([CITYSCAPES_TO_CAMVID['unlabeled']] +
                               [CITYSCAPES_TO_CAMVID[o.label] for o in scene.objects], np.uint8)
            label = of_inst[inst]
            counts += np.bincount(label.ravel(), minlength=12)
            name = f'demo_{split}_{index:04d}.png'
            Image.fromarray(image).save(osp.join(root, split, name))
            Image.fromarray(label).save(osp.join(root, split + 'annot', name))
        summary['num_images'][split] = int(count)
        summary['class_freq'][split] = (counts / max(int(counts.sum()), 1)).round(4).tolist()
    with open(osp.join(root, _MARKER), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='data/camvid')
    parser.add_argument('--num', type=int, nargs=3, default=(12, 6, 6),
                        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--size', type=int, nargs=2, default=(96, 128), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    summary = generate_demo_camvid(args.out, tuple(args.num), tuple(args.size), args.seed)
    print(f"wrote {summary['num_images']} images of {summary['size']} to {summary['root']}")
    return summary


if __name__ == '__main__':
    main()

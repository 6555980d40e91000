"""Writing the data set: images, polygon JSON, labelIds, and mmseg's converter for the rest."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from .geometry import _Scene
from .labels import _CONVERTER, _FRAME, _MARKER, _SPLIT_CODE, CITIES, CLASSES, LABELS
from .render import _rasterize, _render
from .scene import _build_scene


def find_mmseg_cityscapes_converter() -> str:
    """Path of mmsegmentation's Cityscapes converter inside the installed mmseg package.

    The mmseg wheel ships its ``tools/`` under ``<mmseg package dir>/.mim/``.

    Raises:
        FileNotFoundError: mmsegmentation is not installed or its wheel lacks the converter.
    """
    spec = importlib.util.find_spec('mmseg')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError('mmsegmentation (package mmseg) is not installed: its converter '
                                f'{_CONVERTER} is needed to write labelTrainIds; install '
                                'mmsegmentation>=1.2 or pass convert=False')
    tried = [osp.join(loc, _CONVERTER) for loc in spec.submodule_search_locations]
    for path in tried:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'mmseg\'s Cityscapes converter is missing: looked for {tried}; '
                            'reinstall mmsegmentation from its wheel (it ships tools/ under .mim)')


def _json2label_img():
    try:
        from cityscapesscripts.preparation.json2labelImg import json2labelImg
    except ImportError as e:
        raise ImportError('generate_demo_cityscapes needs cityscapesScripts to write the label '
                          'maps: pip install "cityscapesscripts>=2.2"') from e
    return json2labelImg


def _stem(city: str, seq: int) -> str:
    return f'{city}_{seq:06d}_{_FRAME:06d}'


def _split_names(split: str, num: int) -> List[Tuple[str, str]]:
    """(city, stem) of the ``num`` images of ``split``, the images split evenly over the cities."""
    cities = CITIES[split]
    per_city = -(-num // len(cities)) if num else 0
    return [(cities[i // per_city], _stem(cities[i // per_city], i % per_city)) for i in range(num)]


def _write_png(array: np.ndarray, path: str):
    Image.fromarray(array).save(path, format='PNG', optimize=False, compress_level=6)


def _write_polygons(scene: _Scene, path: str):
    annotation = dict(imgHeight=scene.h, imgWidth=scene.w,
                      objects=[dict(label=o.label, polygon=o.polygon) for o in scene.objects])
    with open(path, 'w') as f:
        json.dump(annotation, f, indent=4)
        f.write('\n')


def _prepare_root(root: str):
    """Create ``root``; clear what an earlier run of this generator wrote there.

    Refuses to touch a folder holding other Cityscapes data (no ``demo_cityscapes.json`` marker).
    """
    data_dirs = [
        osp.join(root, top, split) for top in ('leftImg8bit', 'gtFine')
        for split in ('train', 'val', 'test')
    ]
    if any(osp.isdir(d) and os.listdir(d) for d in data_dirs):
        if not osp.isfile(osp.join(root, _MARKER)):
            raise FileExistsError(f'{root} already holds Cityscapes data not written by '
                                  f'generate_demo_cityscapes (no {_MARKER}); choose an empty or '
                                  'new root')
        for d in data_dirs:
            if osp.isdir(d):
                shutil.rmtree(d)
    for name in ('train.txt', 'val.txt', 'test.txt', _MARKER):
        if osp.isfile(osp.join(root, name)):
            os.remove(osp.join(root, name))
    os.makedirs(root, exist_ok=True)


def _run_converter(root: str):
    converter = find_mmseg_cityscapes_converter()
    cmd = [sys.executable, converter, root, '--nproc', '1']
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'mmseg\'s Cityscapes converter failed (exit {proc.returncode}): '
                           f'{" ".join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}')
    # The converter lists files in os.scandir order, which depends on the file system: sort the
    # split files so that the output is byte-identical everywhere.
    for split in ('train', 'val', 'test'):
        path = osp.join(root, f'{split}.txt')
        if osp.isfile(path):
            with open(path) as f:
                lines = sorted(line for line in f.read().splitlines() if line)
            with open(path, 'w') as f:
                f.writelines(line + '\n' for line in lines)


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')
    return int(value)


def generate_demo_cityscapes(root: str, num_train: int = 60, num_val: int = 20,
                             size: Tuple[int, int] = (128, 256), seed: int = 0,
                             convert: bool = True) -> Dict:
    """Write a small deterministic street-scene data set in the Cityscapes layout.

    Image ``i`` of split ``s`` is drawn from ``numpy.random.default_rng((seed, s, i))`` alone, so
    the same arguments give byte-identical files (PNG, JSON and, with ``convert``, the split
    lists). Train images are spread over the cities ``aachen`` and ``bremen``, val images are in
    ``frankfurt``.

    Args:
        root (str): Data root, e.g. ``'data/cityscapes'``. Created if needed. A root that already
            holds Cityscapes data is only accepted if this function wrote it (then its
            ``{leftImg8bit,gtFine}/{train,val,test}`` folders and split lists are replaced).
        num_train (int): Number of train images (>= 0). Default: 60.
        num_val (int): Number of val images (>= 0). Default: 20.
        size (tuple[int, int]): Image (height, width), each >= 32. Default: (128, 256).
        seed (int): Seed (>= 0). Default: 0.
        convert (bool): Run mmsegmentation's converter
            (``<mmseg>/.mim/tools/dataset_converters/cityscapes.py``) to write
            ``*_gtFine_labelTrainIds.png`` and ``train.txt``/``val.txt``. Default: True.

    Returns:
        dict: Summary with ``root``, ``size`` (h, w), ``seed``, ``converted``,
        ``num_images`` ({split: count}), ``cities`` ({split: [city, ...]}), ``num_polygons``
        ({split: total}), ``class_freq`` ({split: {class: fraction of the split's pixels}}, for
        the 19 train classes, 0.0 for absent ones), ``ignore_freq`` ({split: fraction with
        trainId 255}), ``absent_classes`` ({split: [class, ...]}) and ``seconds``.
    """
    num_train = _check_int('num_train', num_train, 0)
    num_val = _check_int('num_val', num_val, 0)
    seed = _check_int('seed', seed, 0)
    if (not isinstance(size, (tuple, list)) or len(size) != 2 or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 32 for s in size)):
        raise ValueError(f'size must be (height, width), two integers >= 32, got {size!r}')
    h, w = int(size[0]), int(size[1])
    if num_train + num_val == 0:
        raise ValueError('num_train + num_val must be at least 1, got 0 and 0')
    json2label_img = _json2label_img()
    if convert:
        find_mmseg_cityscapes_converter()  # fail before writing anything
    start = time.perf_counter()
    root = osp.abspath(root)
    _prepare_root(root)

    summary = dict(root=root, size=[h, w], seed=seed, converted=bool(convert), num_images={},
                   cities={}, num_polygons={}, class_freq={}, ignore_freq={}, absent_classes={})
    expected = {}  # labelTrainIds path -> trainId map from our own rasterisation
    for top in ('leftImg8bit', 'gtFine'):  # the converter lists train, val and test
        for split in ('train', 'val', 'test'):
            os.makedirs(osp.join(root, top, split), exist_ok=True)
    for split, num in (('train', num_train), ('val', num_val)):
        counts = np.zeros(256, np.int64)
        polygons = 0
        for index, (city, stem) in enumerate(_split_names(split, num)):
            rng = np.random.default_rng((seed, _SPLIT_CODE[split], index))
            scene = _build_scene(rng, h, w)
            inst = _rasterize(scene)
            image = _render(scene, inst, rng)
            label_of_inst = np.zeros(len(scene.objects) + 1, np.uint8)
            label_of_inst[0] = LABELS['unlabeled'][1]
            label_of_inst[1:] = [LABELS[o.label][1] for o in scene.objects]
            train_ids = label_of_inst[inst]
            counts += np.bincount(train_ids.ravel(), minlength=256)
            polygons += len(scene.objects)

            img_dir = osp.join(root, 'leftImg8bit', split, city)
            gt_dir = osp.join(root, 'gtFine', split, city)
            os.makedirs(img_dir, exist_ok=True)
            os.makedirs(gt_dir, exist_ok=True)
            _write_png(image, osp.join(img_dir, f'{stem}_leftImg8bit.png'))
            json_path = osp.join(gt_dir, f'{stem}_gtFine_polygons.json')
            _write_polygons(scene, json_path)
            json2label_img(json_path, osp.join(gt_dir, f'{stem}_gtFine_labelIds.png'), 'ids')
            expected[osp.join(gt_dir, f'{stem}_gtFine_labelTrainIds.png')] = train_ids
        total = max(int(counts.sum()), 1)
        summary['num_images'][split] = num
        summary['cities'][split] = sorted({city for city, _ in _split_names(split, num)})
        summary['num_polygons'][split] = polygons
        summary['class_freq'][split] = {
            name: round(float(counts[i]) / total, 6)
            for i, name in enumerate(CLASSES)
        }
        summary['ignore_freq'][split] = round(float(counts[255]) / total, 6)
        summary['absent_classes'][split] = [
            name for i, name in enumerate(CLASSES) if num and counts[i] == 0
        ]

    if convert:
        _run_converter(root)
        for path, train_ids in expected.items():
            if not osp.isfile(path):
                raise RuntimeError(f'mmseg\'s converter did not write {path}')
            written = np.asarray(Image.open(path))
            if written.shape != train_ids.shape or not np.array_equal(written, train_ids):
                raise RuntimeError(f'{path} disagrees with the polygons the image was rendered '
                                   'from (a different cityscapesScripts / Pillow rasterisation?)')
    summary['seconds'] = round(time.perf_counter() - start, 3)
    with open(osp.join(root, _MARKER), 'w') as f:
        json.dump({k: v for k, v in summary.items() if k not in ('root', 'seconds')}, f, indent=2)
        f.write('\n')
    return summary

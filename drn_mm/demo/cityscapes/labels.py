"""Cityscapes labels and the demo's fixed names (cities, files)."""
import os.path as osp

import numpy as np

__all__ = ['CLASSES', 'LABELS', 'CITIES']

#: The 19 Cityscapes train classes, index = trainId (mmseg ``CityscapesDataset.METAINFO``).
CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
           'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
           'motorcycle', 'bicycle')

#: label name -> (id, trainId) of every Cityscapes label this generator draws (Cityscapes'
#: published label definitions); 255 is the ignore index.
LABELS = {
    'unlabeled': (0, 255),
    'ego vehicle': (1, 255),
    'out of roi': (3, 255),
    'static': (4, 255),
    'road': (7, 0),
    'sidewalk': (8, 1),
    'building': (11, 2),
    'wall': (12, 3),
    'fence': (13, 4),
    'pole': (17, 5),
    'traffic light': (19, 6),
    'traffic sign': (20, 7),
    'vegetation': (21, 8),
    'terrain': (22, 9),
    'sky': (23, 10),
    'person': (24, 11),
    'rider': (25, 12),
    'car': (26, 13),
    'truck': (27, 14),
    'bus': (28, 15),
    'train': (31, 16),
    'motorcycle': (32, 17),
    'bicycle': (33, 18),
}
_LABEL_NAMES = tuple(LABELS)
_LABEL_INDEX = {name: i for i, name in enumerate(_LABEL_NAMES)}
_TRAIN_ID_OF_LABEL = np.array([LABELS[name][1] for name in _LABEL_NAMES], np.uint8)

#: Cities per split (two for train, one for val, like the real split).
CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt', )}
_SPLIT_CODE = {'train': 0, 'val': 1}
#: Cityscapes' annotated frame of each 30-frame snippet.
_FRAME = 19
_MARKER = 'demo_cityscapes.json'
_CONVERTER = osp.join('.mim', 'tools', 'dataset_converters', 'cityscapes.py')
#: an 8-bit instance raster holds at most this many polygons
_MAX_OBJECTS = 255

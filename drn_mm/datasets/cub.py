"""CUB-200-2011 with its ground-truth boxes (``bounding_boxes.txt``).

Layout (``data_root``, as distributed)::

    images/001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg ...
    images.txt              "<image_id> <path under images/>"
    image_class_labels.txt  "<image_id> <class_id>"   (1-based)
    train_test_split.txt    "<image_id> <1: train, 0: test>"
    bounding_boxes.txt      "<image_id> <x> <y> <width> <height>"   (pixels, floats)
    classes.txt             "<class_id> <name>"

A box ``x y width height`` is ``(x, y, x + width, y + height)`` in
:mod:`drn_mm.evaluation.localization`'s
convention (continuous pixels, exclusive ends), kept in original-image pixels.
"""
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np
from mmengine.fileio import list_from_file
from mmpretrain.datasets import CUB

from ..registry import register


@register('DATASETS', ('mmpretrain', ))
class CUBLocalization(CUB):
    """mmpretrain's CUB with each image's box: ``ori_bboxes`` (1, 4) float32 and
    ``ori_bbox_labels`` (1,) int64 (the image's class) in each data info.

    Keep them with ``PackInputs(meta_keys=(..., 'ori_bboxes', 'ori_bbox_labels'))``.

    Args:
        data_root (str): the CUB_200_2011 folder.
        split (str): 'train' or 'test'.
        bbox_file (str): box file relative to ``data_root``. Default ``'bounding_boxes.txt'``.
        mask_dir (str, optional): folder (relative to ``data_root``) of the objects' masks, one
            PNG per image at the image's path under ``images/`` with ``.png`` (non-zero: object),
            as Choe et al. 2020 release CUB's and :mod:`drn_mm.demo.shapes` writes them. Each
            data info then has ``ori_mask_path`` (keep it in ``PackInputs`` meta keys) for
            PxAP; a missing mask is an error naming it. Default None (no masks).
        **kwargs: :class:`mmpretrain.datasets.CUB` arguments.
    """

    def __init__(self, data_root: str, split: str = 'train', bbox_file: str = 'bounding_boxes.txt',
                 mask_dir: Optional[str] = None, **kwargs):
        self.bbox_file = bbox_file
        self.mask_dir = mask_dir
        super().__init__(data_root=data_root, split=split, **kwargs)

    def _load_boxes(self) -> Dict[int, Tuple[float, float, float, float]]:
        path = self.backend.join_path(self.data_root, self.bbox_file)
        boxes = {}
        for number, line in enumerate(list_from_file(path), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 5:
                raise ValueError(f'{path}:{number}: expected "<image_id> <x> <y> <width> '
                                 f'<height>", got {line!r}')
            try:
                image_id = int(fields[0])
                x, y, w, h = (float(v) for v in fields[1:])
            except ValueError as e:
                raise ValueError(f'{path}:{number}: not numbers: {line!r}') from e
            if w < 0 or h < 0:
                raise ValueError(f'{path}:{number}: negative width or height in {line!r}')
            boxes[image_id - 1] = (x, y, x + w, y + h)  # 0-based ids, as CUB's other files
        return boxes

    def load_data_list(self):
        data_list = super().load_data_list()
        images = self._load_data_from_txt(self.ann_file)  # 0-based id -> path under images/
        path_to_id = {self.backend.join_path(self.img_prefix, p): i for i, p in images.items()}
        boxes = self._load_boxes()
        for info in data_list:
            image_id = path_to_id[info['img_path']]
            if image_id not in boxes:
                raise ValueError(f'{self.bbox_file} of {self.data_root} has no box for image id '
                                 f'{image_id + 1} ({info["img_path"]})')
            info['ori_bboxes'] = np.array([boxes[image_id]], dtype=np.float32)
            info['ori_bbox_labels'] = np.array([info['gt_label']], dtype=np.int64)
            if self.mask_dir is not None:
                mask = self.backend.join_path(self.data_root, self.mask_dir,
                                              osp.splitext(images[image_id])[0] + '.png')
                if not osp.isfile(mask):
                    raise FileNotFoundError(f'CUBLocalization(mask_dir={self.mask_dir!r}): no mask '
                                            f'{mask} for image {info["img_path"]}')
                info['ori_mask_path'] = mask
        return data_list

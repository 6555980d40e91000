"""ImageNet validation images with their ground-truth boxes (ILSVRC per-image XML files).

Layout (``data_root``)::

    val/ILSVRC2012_val_00000001.JPEG ...      images (mmpretrain's ImageNet layout: flat with
    meta/val.txt                               meta/val.txt "<file> <label>", or class folders)
    val_boxes/ILSVRC2012_val_00000001.xml ... one PASCAL VOC-style XML per image
                                               (ILSVRC2012_bbox_val_v3.tgz), same stem

An XML holds ``<object><name>n01440764</name><bndbox><xmin>..</xmin><ymin>..</ymin>
<xmax>..</xmax><ymax>..</ymax></bndbox></object>`` per box. Every box of ImageNet val is of the
image's class; with ``wnid_file`` the names are checked against it and mapped to class indices.

Boxes stay in original-image pixels (``ori_bboxes`` (K, 4) float32, ``ori_bbox_labels`` (K,)
int64): the metric maps predictions back to the original image instead of moving the boxes
through the pipeline. ``xmin..xmax`` are read as inclusive 0-based pixel indices (the ILSVRC
devkit measures widths as ``xmax - xmin + 1``), i.e. the box ``(xmin, ymin, xmax + 1, ymax + 1)``
in :mod:`drn_mm.evaluation.localization`'s convention.
"""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.fileio import list_from_file
from mmpretrain.datasets import ImageNet

from ..registry import register


def parse_voc_boxes(xml_path: str) -> List[Tuple[str, Tuple[float, float, float, float]]]:
    """``[(name, (x1, y1, x2, y2)), ...]`` of a PASCAL VOC-style XML file, inclusive pixel
    indices converted to exclusive ends (``x2 = xmax + 1``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: malformed XML, an object without ``name`` / ``bndbox``, or ``xmax < xmin``.
    """
    if not osp.isfile(xml_path):
        raise FileNotFoundError(f'box annotation not found: {xml_path}')
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as e:
        raise ValueError(f'{xml_path}: not valid XML ({e})') from e
    boxes = []
    for obj in root.iter('object'):
        name, bndbox = obj.findtext('name'), obj.find('bndbox')
        if not name or bndbox is None:
            raise ValueError(f'{xml_path}: an <object> lacks <name> or <bndbox>')
        try:
            xmin, ymin, xmax, ymax = (
                float(bndbox.findtext(k)) for k in ('xmin', 'ymin', 'xmax', 'ymax'))
        except (TypeError, ValueError) as e:
            raise ValueError(f'{xml_path}: <bndbox> of {name!r} needs numeric xmin, ymin, xmax, '
                             'ymax') from e
        if xmax < xmin or ymax < ymin:
            raise ValueError(f'{xml_path}: box of {name!r} has xmax < xmin or ymax < ymin: '
                             f'{(xmin, ymin, xmax, ymax)}')
        boxes.append((name.strip(), (xmin, ymin, xmax + 1, ymax + 1)))
    return boxes


@register('DATASETS', ('mmpretrain', ))
class ImageNetLocalization(ImageNet):
    """mmpretrain's ImageNet with each image's ground-truth boxes, for localization metrics.

    Each data info gains ``ori_bboxes`` ((K, 4) float32, original-image pixels, exclusive ends)
    and ``ori_bbox_labels`` ((K,) int64 class indices). Keep them with
    ``PackInputs(meta_keys=(..., 'ori_bboxes', 'ori_bbox_labels'))``.

    Args:
        data_root (str): ImageNet root.
        split (str): 'val' (default) or 'train' (for the ILSVRC train boxes of the images that
            have them, with ``skip_missing=True``).
        box_prefix (str): folder of the XML files, relative to ``data_root`` (default
            ``'val_boxes'``; ``'val'`` when they were extracted beside the images). The XML of
            ``<image prefix>/a/b.JPEG`` is ``<box_prefix>/a/b.xml`` or ``<box_prefix>/b.xml``.
        wnid_file (str, optional): class index -> WordNet id, one per line, line ``i`` = class
            ``i``; the first token of each line counts (``LOC_synset_mapping.txt`` works).
            Relative to ``data_root``. Without it every box is taken as the image's class, and an
            XML naming two different wnids is an error.
        skip_missing (bool): drop images without an XML file instead of raising.
        **kwargs: :class:`mmpretrain.datasets.ImageNet` arguments (``ann_file``,
            ``data_prefix``, ``pipeline``, ...).
    """

    def __init__(self, data_root: str = '', split: str = 'val', box_prefix: str = 'val_boxes',
                 wnid_file: Optional[str] = None, skip_missing: bool = False, **kwargs):
        self.box_prefix = box_prefix
        self.wnid_file = wnid_file
        self.skip_missing = skip_missing
        super().__init__(data_root=data_root, split=split, **kwargs)

    def _wnid_to_index(self) -> Optional[Dict[str, int]]:
        if self.wnid_file is None:
            return None
        path = self.wnid_file
        if not osp.isabs(path):
            path = osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'ImageNetLocalization: wnid_file not found: {path}')
        wnids = [line.split()[0] for line in list_from_file(path) if line.strip()]
        return {wnid: i for i, wnid in enumerate(wnids)}

    def _xml_path(self, img_path: str) -> str:
        box_dir = self.box_prefix if osp.isabs(self.box_prefix) else osp.join(
            self.data_root, self.box_prefix)
        relative = osp.relpath(img_path, self.img_prefix)
        nested = osp.join(box_dir, osp.splitext(relative)[0] + '.xml')
        if osp.isfile(nested):
            return nested
        return osp.join(box_dir, osp.splitext(osp.basename(img_path))[0] + '.xml')

    def load_data_list(self):
        data_list = super().load_data_list()
        wnid_to_index = self._wnid_to_index()
        kept = []
        for info in data_list:
            xml_path = self._xml_path(info['img_path'])
            if self.skip_missing and not osp.isfile(xml_path):
                continue
            objects = parse_voc_boxes(xml_path)
            if not objects:
                raise ValueError(f'{xml_path}: no <object> box for {info["img_path"]}')
            label = int(info.get('gt_label', -1))
            if wnid_to_index is None:
                names = sorted({name for name, _ in objects})
                if len(names) > 1:
                    raise ValueError(f'{xml_path}: boxes of several classes {names}; pass '
                                     'wnid_file to map WordNet ids to class indices')
                labels = [label] * len(objects)
            else:
                unknown = sorted({n for n, _ in objects if n not in wnid_to_index})
                if unknown:
                    raise ValueError(f'{xml_path}: {unknown} not in wnid_file {self.wnid_file}')
                labels = [wnid_to_index[n] for n, _ in objects]
            info['ori_bboxes'] = np.array([box for _, box in objects], dtype=np.float32)
            info['ori_bbox_labels'] = np.array(labels, dtype=np.int64)
            kept.append(info)
        if not kept:
            raise ValueError(f'ImageNetLocalization: no image of {self.data_root} '
                             f'({self.img_prefix}) has a box file in {self.box_prefix}')
        return kept

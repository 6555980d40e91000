"""Published accuracy of the configs the benchmark knows (not measured by drn_mm).

Keyed by config file name (without ``.py``). Only configs whose recipe is the one the number was
published for are listed:

- segmentation (Cityscapes val mIoU): the DRN rows are the authors' reference results for the
  recipe that drn_mm's ``configs/drn/drn_*_cityscapes.py`` reproduce; the OpenMMLab rows are
  mmsegmentation 1.2.2's model zoo for its own configs (``configs/baselines/``), single scale;
- classification (ImageNet-1k val top-1 accuracy, %): the DRN rows are 100 minus the top-1 error
  of the authors' reference README for the recipe of ``configs/drn/drn_*_8xb32_in1k.py``; the
  ResNet rows are mmpretrain 1.2.0's model zoo (``configs/resnet/metafile.yml``) for its own
  configs (``configs/baselines/resnet*_8xb32_in1k.py``).
"""
from typing import Dict, NamedTuple, Optional

__all__ = ['Published', 'PUBLISHED', 'published']


class Published(NamedTuple):
    value: float
    metric: str  # 'mIoU' (Cityscapes val) or 'top-1' (ImageNet-1k val accuracy, %)
    source: str


DRN_README = "DRN authors' reference code README"
MMSEG_ZOO = 'mmsegmentation 1.2.2 model zoo (Cityscapes val, single scale)'
MMPRETRAIN_ZOO = 'mmpretrain 1.2.0 model zoo (ImageNet-1k val)'


def _miou(value, source):
    return Published(value, 'mIoU', source)


def _top1(value, source):
    return Published(value, 'top-1', source)


PUBLISHED: Dict[str, Published] = {
    'drn_c_26_cityscapes': _miou(68.0, DRN_README + ' (Cityscapes val)'),
    'drn_c_42_cityscapes': _miou(70.9, DRN_README + ' (Cityscapes val)'),
    'drn_d_22_cityscapes': _miou(68.0, DRN_README + ' (Cityscapes val)'),
    'drn_d_38_cityscapes': _miou(71.4, DRN_README + ' (Cityscapes val)'),
    'drn_d_105_cityscapes': _miou(75.6, DRN_README + ' (Cityscapes val)'),
    'fcn_r50-d8_4xb2-40k_cityscapes-512x1024': _miou(72.25, MMSEG_ZOO),
    'fcn_r50-d8_4xb2-80k_cityscapes-512x1024': _miou(73.61, MMSEG_ZOO),
    'fcn_r101-d8_4xb2-40k_cityscapes-512x1024': _miou(75.45, MMSEG_ZOO),
    'pspnet_r50-d8_4xb2-40k_cityscapes-512x1024': _miou(77.85, MMSEG_ZOO),
    'deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024': _miou(79.09, MMSEG_ZOO),
    # ImageNet: 100 - the README's top-1 error
    'drn_a_50_8xb32_in1k': _top1(100 - 22.9, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_c_26_8xb32_in1k': _top1(100 - 24.9, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_c_42_8xb32_in1k': _top1(100 - 22.9, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_c_58_8xb32_in1k': _top1(100 - 21.7, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_d_22_8xb32_in1k': _top1(100 - 25.8, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_d_38_8xb32_in1k': _top1(100 - 23.8, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_d_54_8xb32_in1k': _top1(100 - 21.2, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'drn_d_105_8xb32_in1k': _top1(100 - 20.6, DRN_README + ' (ImageNet val, 100 - top-1 err)'),
    'resnet18_8xb32_in1k': _top1(69.90, MMPRETRAIN_ZOO),
    'resnet34_8xb32_in1k': _top1(73.62, MMPRETRAIN_ZOO),
    'resnet50_8xb32_in1k': _top1(76.55, MMPRETRAIN_ZOO),
}


def published(name: str) -> Optional[Published]:
    """The published accuracy of config ``name`` (file name without ``.py``), or None."""
    return PUBLISHED.get(name)

"""Published Cityscapes val mIoU of the configs the benchmark knows (not measured by drn_mm).

Keyed by config file name (without ``.py``). Only configs whose recipe is the one the number was
published for are listed: the DRN rows are the authors' reference results for the recipe that
drn_mm's ``configs/drn/drn_*_cityscapes.py`` reproduce; the OpenMMLab rows are mmsegmentation
1.2.2's model zoo for its own configs (``configs/baselines/``), single-scale.
"""
from typing import Dict, NamedTuple, Optional


class Published(NamedTuple):
    miou: float
    source: str


DRN_README = "DRN authors' reference code README (Cityscapes val)"
MMSEG_ZOO = 'mmsegmentation 1.2.2 model zoo (Cityscapes val, single scale)'

PUBLISHED_MIOU: Dict[str, Published] = {
    'drn_c_26_cityscapes': Published(68.0, DRN_README),
    'drn_c_42_cityscapes': Published(70.9, DRN_README),
    'drn_d_22_cityscapes': Published(68.0, DRN_README),
    'drn_d_38_cityscapes': Published(71.4, DRN_README),
    'drn_d_105_cityscapes': Published(75.6, DRN_README),
    'fcn_r50-d8_4xb2-40k_cityscapes-512x1024': Published(72.25, MMSEG_ZOO),
    'fcn_r50-d8_4xb2-80k_cityscapes-512x1024': Published(73.61, MMSEG_ZOO),
    'fcn_r101-d8_4xb2-40k_cityscapes-512x1024': Published(75.45, MMSEG_ZOO),
    'pspnet_r50-d8_4xb2-40k_cityscapes-512x1024': Published(77.85, MMSEG_ZOO),
    'deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024': Published(79.09, MMSEG_ZOO),
}


def published_miou(name: str) -> Optional[Published]:
    """The published mIoU of config ``name`` (file name without ``.py``), or None."""
    return PUBLISHED_MIOU.get(name)

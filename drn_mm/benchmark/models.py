"""Segmentors built from configs (drn_mm's or OpenMMLab's) and synthetic batches to run them on.

Nothing is downloaded: ``pretrained`` and every ``init_cfg`` of type 'Pretrained' are dropped and
the model keeps its config's random initialization (weights do not change speed). SyncBN becomes
BN, as in a single-process run.
"""
import logging
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['config_name', 'load_benchmark_config', 'build_segmentor', 'calibrate_batchnorm',
           'predict_batch', 'train_batch', 'synthetic_images']


def config_name(config: str) -> str:
    """``configs/drn/drn_d_22_cityscapes.py`` -> ``drn_d_22_cityscapes``."""
    return osp.splitext(osp.basename(config))[0]


def _drop_pretrained(node):
    """Remove ``pretrained`` keys and Pretrained ``init_cfg`` entries from a model config tree."""
    if isinstance(node, dict):
        node.pop('pretrained', None)
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node.pop('init_cfg')
        elif isinstance(init_cfg, list):
            node['init_cfg'] = [c for c in init_cfg
                                if not (isinstance(c, dict) and c.get('type') == 'Pretrained')]
        for value in node.values():
            _drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _drop_pretrained(value)


def load_benchmark_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_segmentor(cfg: Config, seed: int = 0,
                    crop_size: Optional[Sequence[int]] = None) -> nn.Module:
    """Build ``cfg.model`` with mmseg's registry on the CPU, randomly initialized, with BN.

    Args:
        crop_size: if the data preprocessor pads training batches to a fixed ``size`` (the
            config's crop, e.g. mmseg's 512x1024), pad to this size instead.
    """
    import drn_mm  # noqa: F401  (registers drn_mm's modules; baseline configs do not import it)
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    model_cfg = cfg.model.copy()
    _drop_pretrained(model_cfg)
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is not None and preprocessor.get('size') is not None and crop_size:
        preprocessor['size'] = tuple(crop_size)
    register_all_modules(init_default_scope=False)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    model = revert_sync_batchnorm(model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights reports every tensor at INFO
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def calibrate_batchnorm(model: nn.Module, inputs: torch.Tensor, steps: int = 2) -> nn.Module:
    """Give BN layers running statistics of ``inputs`` (a cumulative average over ``steps``
    train-mode forwards), so a randomly initialized model's eval-mode activations keep a sane
    scale: accuracy checks then compare numbers of a realistic size. Returns ``model`` in eval."""
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(inputs, mode='tensor')
    for bn, momentum in zip(bns, momenta):
        bn.momentum = momentum
    return model.eval()


def synthetic_images(batch: int, size: Sequence[int], device, seed: int = 0) -> List[torch.Tensor]:
    """``batch`` random uint8 images (3, H, W) on ``device``, as a dataloader would give them."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch, 3, *size), generator=gen, dtype=torch.uint8)
    return list(images.to(device).unbind(0))


def _samples(batch: int, size: Sequence[int], labels: Optional[torch.Tensor] = None):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    shape = tuple(int(s) for s in size)
    samples = []
    for i in range(batch):
        sample = SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape, pad_shape=shape))
        if labels is not None:
            sample.gt_sem_seg = PixelData(data=labels[i:i + 1])
        samples.append(sample)
    return samples


def predict_batch(model: nn.Module, batch: int, size: Sequence[int], seed: int = 0
                  ) -> Tuple[torch.Tensor, list]:
    """Preprocessed ``(inputs, data_samples)`` for ``model.predict`` / ``model(..., 'tensor')``,
    made by the model's own data preprocessor from random images, on the model's device."""
    device = next(model.parameters()).device
    data = dict(inputs=synthetic_images(batch, size, device, seed), data_samples=_samples(
        batch, size))
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
    return data['inputs'], data['data_samples']


def train_batch(batch: int, size: Sequence[int], num_classes: int, device, seed: int = 0,
                ignore_fraction: float = 0.05) -> dict:
    """A dataloader-style training batch on ``device``: ``inputs`` (list of uint8 (3, H, W)) and
    ``data_samples`` (SegDataSample with ``gt_sem_seg``, random labels, some 255 = ignore), the
    input of ``model.train_step``."""
    gen = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, num_classes, (batch, *size), generator=gen)
    labels[torch.rand(batch, *size, generator=gen) < ignore_fraction] = 255
    return dict(inputs=synthetic_images(batch, size, device, seed),
                data_samples=_samples(batch, size, labels.to(device)))

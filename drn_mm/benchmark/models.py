"""Models built from configs (drn_mm's or OpenMMLab's) and synthetic batches to run them on.

Two tasks: segmentation (mmseg configs, ``default_scope='mmseg'``: segmentors such as
``EncoderDecoder``) and classification (mmpretrain configs, ``default_scope='mmpretrain'``:
``ImageClassifier``). Nothing is downloaded: ``pretrained`` and every ``init_cfg`` of type
'Pretrained' are dropped and the model keeps its config's random initialization (weights do not
change speed). SyncBN becomes BN, as in a single-process run.
"""
import copy
import importlib
import logging
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['TASKS', 'config_name', 'config_task', 'model_task', 'num_classes',
           'load_benchmark_config', 'benchmark_model_cfg', 'build_model', 'calibrate_batchnorm',
           'predict_batch', 'train_batch', 'synthetic_images']

#: task -> the OpenMMLab library (= default scope) its configs and models belong to
TASKS = {'seg': 'mmseg', 'cls': 'mmpretrain'}


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


def config_task(cfg: Config, config: str = '') -> str:
    """'seg' for an mmseg config, 'cls' for an mmpretrain one (by ``default_scope``)."""
    scope = cfg.get('default_scope', 'mmseg')
    for task, library in TASKS.items():
        if scope == library:
            return task
    raise ValueError(f'{config or "config"}: default_scope={scope!r}; the benchmark measures '
                     f'mmseg segmentors and mmpretrain classifiers (default_scope one of '
                     f'{sorted(TASKS.values())})')


def model_task(model: nn.Module) -> str:
    """'seg' for a segmentor (it has a ``decode_head``), else 'cls'."""
    return 'seg' if hasattr(model, 'decode_head') else 'cls'


def num_classes(model: nn.Module) -> int:
    head = model.decode_head if model_task(model) == 'seg' else model.head
    return head.num_classes


def benchmark_model_cfg(model_cfg, crop_size: Optional[Sequence[int]] = None):
    """A copy of a model config as the benchmark builds it: without ``pretrained`` and
    Pretrained ``init_cfg`` entries, and with a segmentor's fixed-size data preprocessor padding
    to ``crop_size`` (if given) instead of the config's crop."""
    model_cfg = copy.deepcopy(model_cfg)
    _drop_pretrained(model_cfg)
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is not None and preprocessor.get('size') is not None and crop_size:
        preprocessor['size'] = tuple(crop_size)
    return model_cfg


def build_model(cfg: Config, seed: int = 0,
                crop_size: Optional[Sequence[int]] = None) -> nn.Module:
    """Build ``cfg.model`` with its library's registry (mmseg or mmpretrain, see
    :func:`config_task`) on the CPU, randomly initialized, with BN.

    Args:
        crop_size: if a segmentor's data preprocessor pads training batches to a fixed ``size``
            (the config's crop, e.g. mmseg's 512x1024), pad to this size instead.
    """
    import drn_mm  # noqa: F401  (registers drn_mm's modules; baseline configs do not import it)
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope

    library = TASKS[config_task(cfg)]
    model_cfg = benchmark_model_cfg(cfg.model, crop_size)
    importlib.import_module(f'{library}.utils').register_all_modules(init_default_scope=False)
    registry = importlib.import_module(f'{library}.registry').MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(library):
        model = registry.build(model_cfg)
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


def _samples(task: str, batch: int, size: Sequence[int],
             labels: Optional[torch.Tensor] = None) -> list:
    """Data samples as the task's ``PackSegInputs`` / ``PackInputs`` make them; ``labels``:
    (N, H, W) label maps (seg) or (N, ) class indices (cls)."""
    from mmengine.structures import PixelData
    shape = tuple(int(s) for s in size)
    if task == 'seg':
        from mmseg.structures import SegDataSample as Sample
    else:
        from mmpretrain.structures import DataSample as Sample
    samples = []
    for i in range(batch):
        meta = dict(img_shape=shape, ori_shape=shape)
        if task == 'seg':
            meta['pad_shape'] = shape
        sample = Sample(metainfo=meta)
        if labels is not None and task == 'seg':
            sample.gt_sem_seg = PixelData(data=labels[i:i + 1])
        elif labels is not None:
            sample.set_gt_label(int(labels[i]))
        samples.append(sample)
    return samples


def predict_batch(model: nn.Module, batch: int, size: Sequence[int], seed: int = 0
                  ) -> Tuple[torch.Tensor, list]:
    """Preprocessed ``(inputs, data_samples)`` for ``model.predict`` / ``model(..., 'tensor')``,
    made by the model's own data preprocessor from random images, on the model's device."""
    device = next(model.parameters()).device
    data = dict(inputs=synthetic_images(batch, size, device, seed),
                data_samples=_samples(model_task(model), batch, size))
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
    return data['inputs'], data['data_samples']


def train_batch(batch: int, size: Sequence[int], num_classes: int, device, seed: int = 0,
                ignore_fraction: float = 0.05, task: str = 'seg') -> dict:
    """A dataloader-style training batch on ``device``: ``inputs`` (list of uint8 (3, H, W)) and
    ``data_samples``, the input of ``model.train_step``. Segmentation: ``SegDataSample`` with
    ``gt_sem_seg`` (random labels, ``ignore_fraction`` of them 255 = ignore); classification:
    ``DataSample`` with a random ``gt_label``."""
    gen = torch.Generator().manual_seed(seed + 1)
    if task == 'seg':
        labels = torch.randint(0, num_classes, (batch, *size), generator=gen)
        labels[torch.rand(batch, *size, generator=gen) < ignore_fraction] = 255
    else:
        labels = torch.randint(0, num_classes, (batch, ), generator=gen)
    return dict(inputs=synthetic_images(batch, size, device, seed),
                data_samples=_samples(task, batch, size, labels.to(device)))

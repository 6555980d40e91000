"""Config -> model: every path that builds a model from a config goes through here.

- :func:`build_model`: randomly initialized, nothing downloaded (``pretrained`` and Pretrained
  ``init_cfg`` entries dropped), SyncBN as BN: what the benchmark and the deploy tools measure.
- :func:`init_model`: ready for inference, with a checkpoint of any known DRN layout loaded
  strictly; :func:`init_segmentor` and :func:`init_classifier` are its two tasks.
"""
import copy
import importlib
import logging
from typing import Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope

# drn_mm's modules registered (baseline configs do not import drn_mm):
from .. import datasets, engine, evaluation, models  # noqa: F401
from ..models.backbones.drn_checkpoint import load_into_model
from ..models.utils.checkpoint import load_checkpoint_file
from .config import TASKS, config_task, read_config

__all__ = [
    'model_task', 'num_classes', 'random_init_model_cfg', 'build_model', 'init_model',
    'init_segmentor', 'init_classifier'
]


def model_task(model: nn.Module) -> str:
    """'seg' for a segmentor (it has a ``decode_head``), else 'cls'."""
    return 'seg' if hasattr(model, 'decode_head') else 'cls'


def num_classes(model: nn.Module) -> int:
    head = model.decode_head if model_task(model) == 'seg' else model.head
    return head.num_classes


def _drop_pretrained(node):
    """Remove ``pretrained`` keys and Pretrained ``init_cfg`` entries from a model config tree."""
    if isinstance(node, dict):
        node.pop('pretrained', None)
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node.pop('init_cfg')
        elif isinstance(init_cfg, list):
            node['init_cfg'] = [
                c for c in init_cfg if not (isinstance(c, dict) and c.get('type') == 'Pretrained')
            ]
        for value in node.values():
            _drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _drop_pretrained(value)


def random_init_model_cfg(model_cfg, crop_size: Optional[Sequence[int]] = None):
    """A copy of a model config without ``pretrained`` and Pretrained ``init_cfg`` entries, and
    with a segmentor's fixed-size data preprocessor padding to ``crop_size`` (if given) instead
    of the config's crop."""
    model_cfg = copy.deepcopy(model_cfg)
    _drop_pretrained(model_cfg)
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is not None and preprocessor.get('size') is not None and crop_size:
        preprocessor['size'] = tuple(crop_size)
    return model_cfg


def _registry(library: str):
    return importlib.import_module(f'{library}.registry').MODELS


def build_model(cfg: Config, seed: int = 0, crop_size: Optional[Sequence[int]] = None) -> nn.Module:
    """Build ``cfg.model`` with its library's registry (mmseg or mmpretrain, see
    :func:`config_task`) on the CPU, randomly initialized, with BN.

    Args:
        crop_size: if a segmentor's data preprocessor pads training batches to a fixed ``size``
            (the config's crop, e.g. mmseg's 512x1024), pad to this size instead.
    """
    library = TASKS[config_task(cfg)]
    model_cfg = random_init_model_cfg(cfg.model, crop_size)
    importlib.import_module(f'{library}.utils').register_all_modules(init_default_scope=False)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(library):
        model = _registry(library).build(model_cfg)
    model = revert_sync_batchnorm(model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights reports every tensor at INFO
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def _dataset_meta(cfg: Config, library: str) -> dict:
    registry = importlib.import_module(f'{library}.registry').DATASETS
    cls = registry.get(cfg.test_dataloader.dataset.type)
    return dict(getattr(cls, 'METAINFO', {}) or {}) if cls is not None else {}


def init_model(config: str, checkpoint: Union[str, Mapping, None] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None, cfg: Optional[Config] = None,
               source: Optional[str] = None):
    """A model of ``config`` in eval mode on ``device``, for inference.

    ``checkpoint`` (drn_mm's, the authors' ImageNet or Cityscapes files, torchvision ResNets for
    DRN-A) is loaded strictly by drn_mm's loader; without it the model keeps its initialization.
    The model carries ``cfg`` and ``dataset_meta`` (the checkpoint's, else the test data set's
    ``METAINFO``). A segmentation config makes mmseg the default scope, as mmseg's
    ``init_model`` does, so ``mmseg.apis.inference_model`` runs on the result.

    Args:
        checkpoint: a path or URI, or a checkpoint already read
            (:func:`~drn_mm.models.utils.checkpoint.load_checkpoint_file`: one read per file).
        cfg: an already read (and edited) config to use instead of reading ``config``.
        source: the file an already read ``checkpoint`` came from, for errors.
    """
    cfg = read_config(config, cfg_options) if cfg is None else cfg
    library = TASKS[config_task(cfg, config)]
    if library == 'mmseg':
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=True)
    cfg.model.pop('pretrained', None)
    cfg.model.backbone.pop('init_cfg', None)  # the checkpoint gives the weights
    if library == 'mmpretrain':
        cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope(library):
        model = _registry(library).build(cfg.model)
    meta = {}
    if checkpoint is not None:
        read = checkpoint if isinstance(checkpoint, Mapping) else load_checkpoint_file(checkpoint)
        source = source or (checkpoint if isinstance(checkpoint, str) else 'the checkpoint')
        load_into_model(model, read, source=source)
        meta = read.get('meta', {}) or {}
    elif library == 'mmpretrain':
        model.init_weights()
    dataset_meta = dict(meta.get('dataset_meta') or {})
    if library == 'mmseg':
        dataset_meta = dataset_meta or _dataset_meta(cfg, library)
    elif 'classes' not in dataset_meta:
        classes = _dataset_meta(cfg, library).get('classes')
        if classes is not None:
            dataset_meta['classes'] = tuple(classes)
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def init_segmentor(config: str, checkpoint: Union[str, Mapping, None] = None, device: str = 'cpu',
                   cfg_options: Optional[dict] = None, source: Optional[str] = None):
    """A segmentor ready for :func:`mmseg.apis.inference_model`, loaded with drn_mm's loader."""
    return init_model(config, checkpoint, device, cfg_options, source=source)


def init_classifier(config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                    cfg_options: Optional[dict] = None):
    """An mmpretrain ``ImageClassifier`` with ``CAMHead(with_cam=True)``, loaded with drn_mm's
    loader (drn_mm checkpoints, the authors' ImageNet files and torchvision ResNets for DRN-A).

    Args:
        config (str): a classification or localization config (``default_scope='mmpretrain'``).
        checkpoint (str, optional): weights; without it the model keeps its initialization.
        device (str): 'cpu', 'cuda', ...
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` (``classes`` when known).
    """
    cfg = read_config(config, cfg_options)
    head = cfg.model.get('head', {})
    if head.get('type') != 'CAMHead':
        raise ValueError(f'{config}: model.head is {head.get("type")!r}; class activation maps '
                         'need CAMHead (e.g. configs/drn/drn-c-26_cam_8xb32_in1k-loc.py)')
    head['with_cam'] = True
    return init_model(config, checkpoint, device, cfg=cfg)

"""What tools/train.py, tools/test.py and tools/inference.py do, as functions tests can call."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.config import Config, DictAction  # noqa: F401  (DictAction for the tools)

from .checkpoint import load_checkpoint_file, load_into_model


def load_config(config: str,
                work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                amp: bool = False,
                resume: bool = False,
                pretrained: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read a config and apply the command-line choices the way mmseg's tools do.

    Args:
        config: path of the config file.
        work_dir: where logs and checkpoints go (default ``./work_dirs/<config name>``).
        cfg_options: ``--cfg-options`` overrides.
        amp: mixed precision training (bf16 where supported, else fp16 with loss scaling).
        resume: resume from the latest checkpoint in ``work_dir``.
        pretrained: ImageNet checkpoint for the backbone (the authors' files load as they are).
        launcher: 'none', 'pytorch' (torchrun) or 'slurm'.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        enable_amp(cfg)
    if resume:
        cfg.resume = True
    if pretrained:
        if not osp.isfile(pretrained) and '://' not in pretrained:
            raise FileNotFoundError(f'--pretrained checkpoint not found: {pretrained}')
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        cfg.model.pop('pretrained', None)
    cfg.setdefault('runner_type', 'DRNRunner')
    return cfg


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision: bf16 (:class:`BF16OptimWrapper`, no loss
    scaling) where supported, else fp16 with dynamic loss scaling (mmengine's AmpOptimWrapper)."""
    import torch

    from .engine.loops import amp_dtype
    from .engine.optim import set_mixed_precision
    wrapper = cfg.optim_wrapper
    if wrapper.get('type', 'OptimWrapper') in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        return
    set_mixed_precision(wrapper, amp_dtype('cuda' if torch.cuda.is_available() else 'cpu'))


def build_runner(cfg: Config):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(cfg: Config):
    """Train through the Runner; returns the runner (its model holds the trained weights)."""
    runner = build_runner(cfg)
    runner.train()
    return runner


def enable_tta(cfg: Config) -> None:
    """Test with the config's ``tta_pipeline`` and ``tta_model`` (DRN: reference multi-scale)."""
    if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
        raise KeyError('--tta needs tta_pipeline and tta_model in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def test(cfg: Config, checkpoint: str, tta: bool = False, out: Optional[str] = None) -> dict:
    """Evaluate ``checkpoint`` (drn_mm, or the authors' Cityscapes file) with the test split.

    Args:
        out: directory for the predicted label maps (PNG, one per image).

    Returns:
        dict: the metrics (e.g. ``mIoU``, ``aAcc``, ``mAcc``).
    """
    cfg.load_from = checkpoint
    cfg.resume = False
    if tta:
        enable_tta(cfg)
    if out:
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
    runner = build_runner(cfg)
    return runner.test()


def load_model_checkpoint(model, checkpoint: str):
    """Load any known DRN checkpoint into a built model, strictly; returns the raw checkpoint."""
    raw = load_checkpoint_file(checkpoint)
    load_into_model(model, raw, source=checkpoint)
    return raw


def init_segmentor(config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                   cfg_options: Optional[dict] = None):
    """A segmentor ready for :func:`mmseg.apis.inference_model`, loaded with drn_mm's loader."""
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.pop('pretrained', None)
    cfg.model.backbone.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    meta = {}
    if checkpoint is not None:
        meta = load_model_checkpoint(model, checkpoint).get('meta', {})
    model.cfg = cfg
    model.dataset_meta = meta.get('dataset_meta') or _dataset_meta(cfg)
    return model.to(device).eval()


def _dataset_meta(cfg: Config) -> dict:
    from mmseg.registry import DATASETS
    dataset_type = cfg.test_dataloader.dataset.type
    cls = DATASETS.get(dataset_type)
    return dict(cls.METAINFO) if cls is not None else {}


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]], ignore_color=(0, 0, 0)):
    """(H, W) label map -> (H, W, 3) uint8 RGB image; labels outside the palette get
    ``ignore_color``."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:] = ignore_color
    lut[:len(palette)] = np.asarray(palette, dtype=np.uint8)
    return lut[np.clip(label, 0, 255).astype(np.int64)]


def segment_image(model, image: str) -> np.ndarray:
    """Predicted (H, W) label map of one image file."""
    from mmseg.apis import inference_model
    result = inference_model(model, image)
    return result.pred_sem_seg.data.squeeze(0).cpu().numpy().astype(np.uint8)

"""Training and testing through mmengine's Runner (what tools/train.py and tools/test.py run)."""
from typing import Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..engine.runner import DRNRunner  # noqa: F401  (registered: runner_type="DRNRunner")
from .config import enable_tta

__all__ = ['build_runner', 'train', 'test']


def build_runner(cfg: Config):
    """The config's ``runner_type`` (drn_mm's tools set DRNRunner), else mmengine's Runner."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(cfg: Config):
    """Train through the Runner; returns the runner (its model holds the trained weights)."""
    runner = build_runner(cfg)
    runner.train()
    return runner


def test(cfg: Config, checkpoint: str, tta: bool = False, out: Optional[str] = None,
         show_dir: Optional[str] = None, precision: str = 'fp32') -> dict:
    """Evaluate ``checkpoint`` (drn_mm, or the authors' Cityscapes file) with the test split.

    Args:
        out: directory for the predicted label maps (PNG, one per image).
        show_dir: directory for pictures of every prediction (image, prediction and labels
            side by side, through the visualizer): ``show_dir/vis_image/test_<name>_0.png``.
        precision: 'fp32' (default: reproduces published numbers), 'bf16', 'int8' or 'auto'
            (:mod:`drn_mm.deploy.precision`; segmentors only).

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
    if show_dir:
        show_predictions(cfg, show_dir)
    if precision != 'fp32':
        cfg.custom_hooks = list(cfg.get(
            'custom_hooks', [])) + [dict(type='InferencePrecisionHook', precision=precision)]
    runner = build_runner(cfg)
    return runner.test()


def show_predictions(cfg: Config, show_dir: str) -> None:
    """Make the test draw every prediction into ``show_dir`` (mmseg's ``--show-dir``)."""
    hooks = cfg.setdefault('default_hooks', {})
    if cfg.get('default_scope', 'mmseg') == 'mmseg':
        hooks['visualization'] = dict(type='DRNSegVisualizationHook', max_images=None)
    else:  # mmpretrain's hook draws every `interval`-th image
        hooks['visualization'] = dict(type='VisualizationHook', enable=True, interval=1)
    cfg.visualizer['save_dir'] = show_dir

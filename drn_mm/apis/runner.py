"""Training and testing through mmengine's own Runner (what tools/train.py and tools/test.py run).

drn_mm has no Runner of its own: its guarantees are in the config
(:class:`~drn_mm.engine.DRNCheckpointHook`), so mmseg's and mmpretrain's tools, mim and a user's
``Runner.from_cfg`` build exactly what :func:`build_runner` builds.
"""
from contextlib import contextmanager
from typing import Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..datasets.checks import DataError, check_seg_dataset_config
from ..engine.distributed import use_cpu_distributed
from .config import enable_tta

__all__ = ['build_runner', 'train', 'test']


def build_runner(cfg: Config):
    """mmengine's Runner for ``cfg`` (a config's ``runner_type`` as mmseg's train.py reads it).
    Launched distributed without CUDA, the gloo process group and a CPU DDP wrapper first
    (:func:`~drn_mm.engine.distributed.use_cpu_distributed`)."""
    use_cpu_distributed(cfg)
    try:
        if 'runner_type' in cfg:
            return RUNNERS.build(cfg)
        return Runner.from_cfg(cfg)
    except OSError as e:  # a full or read-only disk at the first write (the config's dump)
        work_dir = str(cfg.get('work_dir'))
        if work_dir in str(e) or e.errno is None:
            raise
        raise type(e)(e.errno, f'{e.strerror or e} while writing to the work dir {work_dir} '
                      '(its logs, config and checkpoints go there); free space there or pass '
                      'another --work-dir') from e


@contextmanager
def _explain_data_errors(cfg: Config, splits):
    """Run the block; if it fails, say so when the cause is an empty or broken split (mmseg fails
    building such a data set with "need at least one array to concatenate")."""
    try:
        yield
    except Exception as error:
        for split in splits:
            loader = cfg.get(f'{split}_dataloader')
            if isinstance(loader, dict):
                try:
                    check_seg_dataset_config(loader.get('dataset'))
                except DataError as cause:
                    raise cause from error
        raise


def train(cfg: Config):
    """Train through the Runner; returns the runner (its model holds the trained weights)."""
    runner = build_runner(cfg)
    with _explain_data_errors(cfg, ('train', 'val')):
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
    with _explain_data_errors(cfg, ('test', )):
        return runner.test()


def show_predictions(cfg: Config, show_dir: str) -> None:
    """Make the test draw every prediction into ``show_dir`` (mmseg's ``--show-dir``)."""
    hooks = cfg.setdefault('default_hooks', {})
    if cfg.get('default_scope', 'mmseg') == 'mmseg':
        hooks['visualization'] = dict(type='DRNSegVisualizationHook', max_images=None)
    else:  # mmpretrain's hook draws every `interval`-th image
        hooks['visualization'] = dict(type='VisualizationHook', enable=True, interval=1)
    cfg.visualizer['save_dir'] = show_dir

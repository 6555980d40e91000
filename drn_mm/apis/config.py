"""Configs: the one reader, and the choices tools/train.py and tools/test.py apply to them."""
import argparse
import difflib
import os.path as osp
import warnings
from typing import Optional

from mmengine.config import Config, DictAction  # noqa: F401  (DictAction for the tools)

from ..engine.label_check import check_num_classes_config
from ..engine.loops import amp_dtype
from ..engine.optim import set_mixed_precision

__all__ = [
    'TASKS', 'read_config', 'config_name', 'config_task', 'load_config', 'enable_amp', 'enable_tta',
    'DictAction', 'add_runner_arguments', 'check_crop_sizes'
]

#: task -> the OpenMMLab library (= default scope) its configs and models belong to
TASKS = {'seg': 'mmseg', 'cls': 'mmpretrain'}


def read_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file and apply ``--cfg-options`` overrides (every drn_mm path does this).

    A syntax error names the file and line (mmengine's says ``<unknown>``); an override whose
    top-level key the config does not have (a typo: ``--cfg-options trian_cfg.max_iters=10``)
    is warned about, with the closest key, since mmengine adds it silently.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    try:
        cfg = Config.fromfile(config)
    except SyntaxError as e:
        raise SyntaxError(f'{config}, line {e.lineno}: {e.msg} (in this file or one of its '
                          '_base_ files)') from e
    if cfg_options:
        _warn_unknown_options(cfg, cfg_options, config)
        cfg.merge_from_dict(cfg_options)
    return cfg


#: top-level keys drn_mm reads that configs need not have
KNOWN_EXTRA_KEYS = ('non_finite_loss', 'model_wrapper_cfg', 'load_from', 'resume', 'launcher',
                    'work_dir', 'compile')


def _warn_unknown_options(cfg: Config, cfg_options: dict, config: str) -> None:
    keys = list(cfg.keys())
    for option in cfg_options:
        top = option.split('.')[0]
        if top in keys or top in KNOWN_EXTRA_KEYS:
            continue
        close = difflib.get_close_matches(top, keys, n=1)
        hint = f' (did you mean {close[0]!r}?)' if close else ''
        warnings.warn(f'--cfg-options {option}: {config} has no {top!r}{hint}; it is added as a '
                      'new entry, which nothing may read')


def config_name(config: str) -> str:
    """``configs/drn/drn_d_22_cityscapes.py`` -> ``drn_d_22_cityscapes``."""
    return osp.splitext(osp.basename(config))[0]


def config_task(cfg: Config, config: str = '') -> str:
    """'seg' for an mmseg config, 'cls' for an mmpretrain one (by ``default_scope``)."""
    scope = cfg.get('default_scope', 'mmseg')
    for task, library in TASKS.items():
        if scope == library:
            return task
    raise ValueError(f'{config or "config"}: default_scope={scope!r}; the benchmark measures '
                     f'mmseg segmentors and mmpretrain classifiers (default_scope one of '
                     f'{sorted(TASKS.values())})')


def load_config(config: str, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None,
                amp: bool = False, resume: bool = False, pretrained: Optional[str] = None,
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
    cfg = read_config(config, cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'{config} defines no model (nor does any of its _base_ files): a config '
                       'for tools/train.py and tools/test.py needs model = dict(...)')
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', config_name(config))
    if amp:
        enable_amp(cfg)
    if resume:
        cfg.resume = True
    check_num_classes_config(cfg.model)  # mmseg's build would fail on 0 classes, unnamed
    check_crop_sizes(cfg)  # mmseg's RandomCrop asserts, naming nothing
    if pretrained:
        if not osp.isfile(pretrained) and '://' not in pretrained:
            raise FileNotFoundError(f'--pretrained checkpoint not found: {pretrained}')
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        cfg.model.pop('pretrained', None)
    return cfg


def check_crop_sizes(cfg: Config) -> None:
    """A ValueError naming the option for a ``crop_size`` of a data pipeline that is not two
    positive sizes (mmseg's RandomCrop fails with a bare AssertionError)."""
    for split in ('train', 'val', 'test'):
        dataset = (cfg.get(f'{split}_dataloader') or {}).get('dataset') or {}
        for i, step in enumerate(dataset.get('pipeline') or []):
            size = step.get('crop_size') if hasattr(step, 'get') else None
            if size is None:
                continue
            sizes = size if isinstance(size, (list, tuple)) else [size]
            if not sizes or any(not isinstance(v, int) or v < 1 for v in sizes):
                raise ValueError(
                    f'{split}_dataloader.dataset.pipeline.{i}.crop_size={size!r} '
                    f'({step.get("type")}): a crop is (height, width), both at least 1 pixel')


def add_runner_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options tools/train.py and tools/test.py share (as mmseg's tools name them)."""
    parser.add_argument('--work-dir', help='where logs (and checkpoints) go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (torchrun: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision: bf16 (:class:`BF16OptimWrapper`, no loss
    scaling) where supported, else fp16 with dynamic loss scaling (mmengine's AmpOptimWrapper)."""
    import torch
    wrapper = cfg.optim_wrapper
    if wrapper.get('type', 'OptimWrapper') in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        return
    set_mixed_precision(wrapper, amp_dtype('cuda' if torch.cuda.is_available() else 'cpu'))


def enable_tta(cfg: Config) -> None:
    """Test with the config's ``tta_pipeline`` and ``tta_model`` (DRN: reference multi-scale)."""
    if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
        raise KeyError('--tta needs tta_pipeline and tta_model in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model

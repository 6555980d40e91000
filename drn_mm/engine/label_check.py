"""Training labels against the heads that learn them: an error naming ``num_classes``.

A segmentor whose decode (or auxiliary) head has fewer classes than the labels hold fails deep in
the loss with "Target 10 is out of bounds", which names neither the head nor the option, and a
head with ``num_classes=0`` fails at build with "groups must be a positive integer".
:class:`LabelsFitHeadsHook` (run by :class:`~drn_mm.engine.DRNCheckpointHook` for segmentors)
checks every training batch's labels against each head's ``num_classes`` before the step (one
``max`` per batch); :func:`check_num_classes_config` checks the model config before the build.
"""
import difflib
from typing import Iterator, List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..models.checks import model_heads

__all__ = [
    'LabelsFitHeadsHook', 'check_num_classes_config', 'evaluator_metric_names', 'check_save_best'
]


def evaluator_metric_names(evaluator_cfg) -> Optional[List[str]]:
    """The metric names an evaluator config reports (mmseg's IoUMetric, mmpretrain's Accuracy),
    or None for evaluators whose names are not known here."""
    metrics = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [evaluator_cfg]
    names = []
    for metric in metrics:
        if not hasattr(metric, 'get'):
            return None
        kind, prefix = metric.get('type'), metric.get('prefix')
        if kind == 'IoUMetric':
            found = ['aAcc', 'mAcc']
            for m in metric.get('iou_metrics', ['mIoU']):
                found += {
                    'mIoU': ['mIoU'],
                    'mDice': ['mDice'],
                    'mFscore': ['mFscore', 'mPrecision', 'mRecall']
                }.get(m, [m])
        elif kind == 'Accuracy':
            topk = metric.get('topk', (1, ))
            found = [
                f'accuracy/top{k}' for k in (topk if isinstance(topk, (list, tuple)) else [topk])
            ]
        else:
            return None
        names += [f'{prefix}/{n}' if prefix else n for n in found]
    return names


def check_save_best(checkpoint_cfg, evaluator_cfg) -> None:
    """A ValueError at build if the checkpoint hook's ``save_best`` names a metric the evaluator
    does not report (mmengine says so only after the first validation, hours in)."""
    save_best = checkpoint_cfg.get('save_best') if hasattr(checkpoint_cfg, 'get') else None
    if save_best in (None, 'auto'):
        return
    valid = evaluator_metric_names(evaluator_cfg)
    if valid is None:
        return
    for name in (save_best if isinstance(save_best, (list, tuple)) else [save_best]):
        if name not in valid:
            close = [v for v in valid if v.lower() == str(name).lower()] or \
                difflib.get_close_matches(str(name), valid, n=1)
            hint = f' (did you mean {close[0]!r}?)' if close else ''
            raise ValueError(f'default_hooks.checkpoint.save_best={name!r}{hint}: the evaluator '
                             f'reports {valid}')


def _head_configs(model_cfg) -> Iterator[Tuple[str, dict]]:
    for name in ('decode_head', 'auxiliary_head', 'head'):
        head = model_cfg.get(name) if hasattr(model_cfg, 'get') else None
        heads = head if isinstance(head, (list, tuple)) else [head]
        for i, cfg in enumerate(heads):
            if hasattr(cfg, 'get'):
                yield (f'model.{name}' + (f'[{i}]' if len(heads) > 1 else '')), cfg


def check_num_classes_config(model_cfg) -> None:
    """A ValueError naming the option if a head of ``model_cfg`` has ``num_classes < 1``."""
    for name, cfg in _head_configs(model_cfg):
        n = cfg.get('num_classes')
        if n is not None and (not isinstance(n, int) or n < 1):
            raise ValueError(f'{name}.num_classes={n!r}; it must be the number of classes of the '
                             'data set (>= 1; e.g. 19 for Cityscapes)')


class LabelsFitHeadsHook(Hook):
    """Before each training step: every label of the batch (but the ignore index) is below each
    head's ``num_classes``, else a ValueError naming the head option, the label value, the class
    count the data set declares and the label file."""
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        samples = (data_batch or {}).get('data_samples') or []
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        heads = [(name, head) for name, head in model_heads(model) if hasattr(head, 'num_classes')]
        for sample in samples:
            gt = getattr(sample, 'gt_sem_seg', None)
            if gt is None:
                continue
            largest = {}  # ignore index -> the largest other label (one pass per index)
            for name, head in heads:
                ignore = getattr(head, 'ignore_index', 255)
                if ignore not in largest:
                    valid = gt.data[gt.data != ignore]
                    largest[ignore] = int(valid.max()) if valid.numel() else -1
                if largest[ignore] >= head.num_classes:
                    classes = (
                        runner.train_dataloader.dataset.metainfo.get('classes') if hasattr(
                            runner.train_dataloader, 'dataset') else None)
                    declared = f'; the data set declares {len(classes)} classes' if classes else ''
                    raise ValueError(
                        f'{name}.num_classes={head.num_classes} but label map '
                        f'{sample.metainfo.get("seg_map_path")} holds class '
                        f'{largest[ignore]}{declared}: set {name}.num_classes to the number of '
                        f'classes of the data set (labels are 0..num_classes-1, {ignore} ignored)')

"""Checkpoints that are safe to write and safe to read, under any Runner: DRNCheckpointHook.

drn_mm runs on mmengine's own Runner; its guarantees travel in the config as this one hook, in
the slot every Runner builds (``default_hooks.checkpoint``), so drn_mm's tools, mmseg's and
mmpretrain's own ``tools/train.py`` / ``tools/test.py``, ``mim train/test`` and a user's
``Runner.from_cfg`` get the same. drn_mm's configs set it; a user's own config gets it with one
line, ``default_hooks = dict(checkpoint=dict(type='DRNCheckpointHook'))`` (the other options of
the config's CheckpointHook are kept). What it does:

Writing (mmengine's ``CheckpointHook`` options, same meaning):

- On a local disk every checkpoint (periodic, best, last) is written under a temporary name and
  renamed (:class:`~drn_mm.engine.file_backend.AtomicLocalBackend`): a crash or a full disk never
  leaves half a file under a checkpoint's name. Any other file backend (``s3://``, a registered
  ``mem://``, ...) saves as mmengine does.
- The order keeps a checkpoint on disk: save the new one, point ``last_checkpoint`` at it
  (temporary name + rename), then delete outdated ones (mmengine deletes first: with
  ``max_keep_ckpts=1`` a kill during the save left none); the previous best goes once the new
  best is written.
- The message hub is saved as plain data (:mod:`~drn_mm.engine.portable_checkpoint`), so
  ``torch.load(weights_only=True)`` (mmseg's ``tools/test.py``, ``init_model``) reads the files.
- Training stops before a non-finite loss's weights are saved, or skips the step
  (``non_finite_loss``, :class:`~drn_mm.engine.safety.NonFiniteLossHook`); SIGTERM writes a
  checkpoint and exits 75 (:class:`~drn_mm.engine.safety.PreemptionHook`); every training batch's
  labels are checked against the heads (:class:`~drn_mm.engine.label_check.LabelsFitHeadsHook`).

Reading:

- ``--resume`` (``resume=True`` without ``load_from``) takes the newest complete checkpoint of the
  work dir even when ``last_checkpoint`` is cut, stale or names a missing file (the pointer is
  rewritten before mmengine reads it; :func:`prepare_resume`).
- Every checkpoint a Runner loads passes :func:`check_loaded_checkpoint`: the authors' layouts
  converted (the layout's own converter, beside the model), then

  - a test or val run, and ``--resume``: the file must fit the whole model, else an error naming
    the file, the keys and the arch the file fits: no metric from a randomly initialized head;
  - ``load_from`` in training (fine-tuning): every DRN backbone loads completely or the run
    stops naming what is missing; the head weights that do not fit are skipped and listed.

- A test or val run whose heads' ``num_classes`` differ from the data set's classes stops, naming
  both counts; the data sets are checked for missing files and empty splits
  (:func:`~drn_mm.datasets.checks.check_seg_dataset`); the heads' ``in_channels`` against the
  backbone (:func:`~drn_mm.models.checks.check_head_channels`).
"""
import difflib
import inspect
import logging
import os.path as osp
from typing import List, Optional

import torch
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.optim import BaseOptimWrapper
from mmengine.registry import HOOKS

from ..datasets.checks import check_seg_dataset
from ..models.backbones.drn_checkpoint import check_fit, model_state_dict
from ..models.checks import check_head_channels, model_heads
from .atomic import write_text_atomic
from .file_backend import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, is_local_path
from .label_check import LabelsFitHeadsHook, check_save_best
from .portable_checkpoint import PlainMessageHubHook
from .safety import NonFiniteLossHook, PreemptionHook
from .work_dir import find_resumable_checkpoint  # noqa: F401
from .work_dir import (CLAIM, POINTER, WorkDirClaim, prepare_resume, remove_partial_checkpoints,
                       resumable_checkpoints, unreadable_reason)

__all__ = [
    'DRNCheckpointHook', 'find_resumable_checkpoint', 'resumable_checkpoints',
    'remove_partial_checkpoints', 'prepare_resume', 'unreadable_reason', 'check_loaded_checkpoint',
    'check_num_classes', 'bare_model', 'WorkDirClaim', 'CLAIM'
]


def bare_model(model):
    """The model inside DDP-like wrappers and a test-time-augmentation model."""
    model = model.module if is_model_wrapper(model) else model
    while isinstance(model, BaseTTAModel):
        model = model.module
    return model


def check_loaded_checkpoint(model, checkpoint: dict, source: str, whole: bool,
                            logger=None) -> List[str]:
    """What :class:`DRNCheckpointHook` does with every checkpoint a Runner reads, before mmengine
    loads it: its weights converted to drn_mm's layout (:func:`~drn_mm.models.backbones.
    drn_checkpoint.model_state_dict`, ``module.`` prefixes stripped) and put back into
    ``checkpoint``; then checked against ``model``
    (:func:`~drn_mm.models.backbones.drn_checkpoint.check_fit`): ``whole`` (test, val, resume)
    the whole model, else every DRN backbone. Returns the model's keys a non-``whole`` load
    leaves at their initialization, which it logs."""
    state_dict = model_state_dict(model, checkpoint)
    skipped = check_fit(model, state_dict, source, strict=whole)
    if 'state_dict' not in checkpoint and 'model' not in checkpoint:  # bare weights
        checkpoint.clear()
    checkpoint['state_dict'] = state_dict
    if skipped:
        expected = model.state_dict()
        why = '; '.join(
            f'size mismatch for {k}: checkpoint {list(state_dict[k].shape)} vs model '
            f'{list(expected[k].shape)}' if k in state_dict else f'{k}: not in the checkpoint'
            for k in skipped)
        print_log(
            f'load_from {source}: the backbone loaded completely; {len(skipped)} weights of the '
            f'model keep their initialization: {", ".join(skipped)} ({why})', logger=logger
            or 'current', level=logging.WARNING)
    return skipped


def check_num_classes(model, dataset, split: str) -> None:
    """A ValueError if a head's ``num_classes`` differs from the number of classes ``dataset``
    declares (its ``metainfo['classes']``; data sets that declare none pass)."""
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if not classes:
        return
    for name, head in model_heads(model):
        n = getattr(head, 'num_classes', None)
        if n is not None and n != len(classes):
            raise ValueError(
                f'{name}.num_classes={n} but the {split} data set '
                f'({type(dataset).__name__}) declares {len(classes)} classes: a metric over '
                f'{len(classes)} classes from a head of {n} would be wrong. Set {name}.'
                f'num_classes={len(classes)} (and use a checkpoint of {len(classes)} classes), or '
                f'test on a data set of {n} classes')


@HOOKS.register_module()
class DRNCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same options) with drn_mm's guarantees; see the module
    docstring.

    Args:
        non_finite_loss (str, optional): 'stop' (default) or 'skip'
            (:class:`~drn_mm.engine.safety.NonFiniteLossHook`); ``None`` reads the config's
            top-level ``non_finite_loss``.
        preemption (bool): checkpoint and exit 75 on SIGTERM. Default True.
        check_labels (bool): check every training batch's labels against the heads. Default True.
        *args, **kwargs: mmengine's ``CheckpointHook``'s. An unknown option is a ValueError at
            once (mmengine's hook takes any keyword and fails with it at the first save).
    """

    def __init__(self, *args, non_finite_loss: Optional[str] = None, preemption: bool = True,
                 check_labels: bool = True, **kwargs):
        valid = [
            name for name in inspect.signature(CheckpointHook.__init__).parameters
            if name not in ('self', 'kwargs')
        ] + ['non_finite_loss', 'preemption', 'check_labels']
        unknown = [key for key in kwargs if key not in valid]
        if unknown:
            hints = {key: difflib.get_close_matches(key, valid, n=1) for key in unknown}
            said = ', '.join(f'{key!r}' + (f' (did you mean {hint[0]!r}?)' if hint else '')
                             for key, hint in hints.items())
            raise ValueError(f'default_hooks.checkpoint: unknown option(s) {said}; valid: '
                             f'{valid}')
        super().__init__(*args, **kwargs)
        self._non_finite_mode = non_finite_loss
        self._guards = dict(non_finite=None, preemption=PreemptionHook() if preemption else None,
                            labels=LabelsFitHeadsHook() if check_labels else None,
                            message_hub=PlainMessageHubHook())
        self._training = False
        self._resuming = False
        self._source = None
        self._checked_datasets = set()
        self._claim = None

    # -- the run ---------------------------------------------------------------------------

    def before_run(self, runner) -> None:
        """Before mmengine's ``load_or_resume``: what the run loads for, the resume pointer, the
        model's heads, and oneDNN determinism when the config asks for determinism."""
        # Runner.train() builds the optimizer wrapper before this call; test() and val() do not
        self._training = isinstance(runner.optim_wrapper, BaseOptimWrapper)
        cfg = runner.cfg
        self._resuming = bool(cfg.get('resume', False))
        self._source = cfg.get('load_from')
        if self._training and is_main_process():
            self._claim = WorkDirClaim(runner.work_dir, str(getattr(cfg, 'filename', '') or ''))
            self._claim.acquire()
        if self._resuming and self._source is None:
            if is_main_process():
                prepare_resume(runner.work_dir)
            barrier()  # every rank reads the pointer once rank 0 has repaired it
            self._source = find_resumable_checkpoint(runner.work_dir)
        check_head_channels(bare_model(runner.model))
        if self._training and self.save_best is not None and cfg.get('val_evaluator'):
            check_save_best(dict(save_best=self.save_best), cfg.val_evaluator)
        if (cfg.get('randomness') or {}).get('deterministic') and hasattr(torch.backends, 'mkldnn'):
            # a resumed CPU run then reproduces an uninterrupted one bit for bit
            torch.backends.mkldnn.deterministic = True
        if self._training:
            mode = self._non_finite_mode or cfg.get('non_finite_loss', 'stop')
            self._guards['non_finite'] = NonFiniteLossHook(mode)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        whole = not self._training or self._resuming
        check_loaded_checkpoint(
            bare_model(runner.model), checkpoint, str(self._source or 'the checkpoint'), whole,
            logger=runner.logger)
        self._guards['message_hub'].after_load_checkpoint(runner, checkpoint)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._guards['message_hub'].before_save_checkpoint(runner, checkpoint)

    def _check_data(self, runner, loader, split: str) -> None:
        dataset = getattr(loader, 'dataset', None)
        if dataset is None or id(dataset) in self._checked_datasets:
            return
        self._checked_datasets.add(id(dataset))
        check_seg_dataset(dataset)
        check_num_classes(bare_model(runner.model), dataset, split)

    def before_val(self, runner) -> None:
        self._check_data(runner, runner.val_dataloader, 'val')

    def before_test(self, runner) -> None:
        self._check_data(runner, runner.test_dataloader, 'test')

    # -- training --------------------------------------------------------------------------

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if self.backend_args is None and self.file_client_args is None and is_local_path(out_dir):
            self.backend_args = dict(backend=ATOMIC_LOCAL_BACKEND)
        super().before_train(runner)
        # the val data too, now (Runner.train() built its loader), not at the first validation
        self._check_data(runner, runner.train_dataloader, 'train')
        val_loop = runner.val_loop
        if val_loop is not None:
            self._check_data(runner, val_loop.dataloader, 'val')
        for guard in ('non_finite', 'preemption'):
            if self._guards[guard] is not None:
                self._guards[guard].before_train(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        for guard in ('labels', 'non_finite'):
            if self._guards[guard] is not None:
                self._guards[guard].before_train_iter(runner, batch_idx, data_batch)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        # a non-finite loss stops the run before its weights are saved; SIGTERM after the save
        if self._guards['non_finite'] is not None:
            self._guards['non_finite'].after_train_iter(runner, batch_idx, data_batch, outputs)
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if self._claim is not None:
            self._claim.refresh()
        if self._guards['preemption'] is not None:
            try:
                self._guards['preemption'].after_train_iter(runner, batch_idx, data_batch, outputs,
                                                            checkpoint_hook=self)
            except SystemExit:  # preempted: the work dir is free for the resume
                self.after_run(runner)
                raise

    def after_train(self, runner) -> None:
        super().after_train(runner)
        if self._guards['preemption'] is not None:
            self._guards['preemption'].after_train(runner)

    def after_run(self, runner) -> None:
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    # -- saving ----------------------------------------------------------------------------

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's, but on a local disk the previous best checkpoint is deleted only once the
        new best is written (mmengine deletes it first)."""
        if isinstance(getattr(self, 'file_backend', None), AtomicLocalBackend):
            with self.file_backend.removals_deferred():
                super()._save_best_checkpoint(runner, metrics)
        else:
            super()._save_best_checkpoint(runner, metrics)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save, point ``last_checkpoint`` at the new file, then delete outdated checkpoints."""
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(self.out_dir, filename, self.file_client_args,
                               save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta,
                               by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, POINTER), self.last_ckpt)
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed
                self.file_backend.rmtree(path)

"""Checkpoints that survive a crash at any moment, and ``--resume`` that finds them.

mmengine's ``CheckpointHook`` deletes the oldest kept checkpoint *before* it writes the new one
(with ``max_keep_ckpts=1`` a kill during the save leaves no checkpoint at all) and writes the
``last_checkpoint`` pointer in place (a kill can leave it empty or cut). Here:

- :class:`DRNCheckpointHook` writes the new checkpoint first (:class:`DRNRunner` saves to a
  temporary name and renames), then the pointer (temporary name + rename), and only then deletes
  outdated checkpoints. :class:`DRNRunner` puts it in place of ``CheckpointHook``, options kept.
- :func:`find_resumable_checkpoint` is ``--resume``'s choice: the newest complete checkpoint of
  the work dir, whether or not ``last_checkpoint`` is intact and up to date.
"""
import difflib
import inspect
import logging
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from .atomic import write_text_atomic

__all__ = [
    'DRNCheckpointHook', 'find_resumable_checkpoint', 'resumable_checkpoints',
    'remove_partial_checkpoints'
]

#: names mmengine gives checkpoints by default (``filename_tmpl`` 'iter_{}.pth' / 'epoch_{}.pth')
_CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')
#: temporary names of checkpoint and pointer writes in progress, left behind by a kill
_PARTIAL_NAME = re.compile(r'^\.(.+\.pth|last_checkpoint)\.tmp\d+$')
POINTER = 'last_checkpoint'


def _step(path: str) -> Optional[int]:
    match = _CHECKPOINT_NAME.match(osp.basename(path))
    return int(match.group(2)) if match else None


def resumable_checkpoints(work_dir: str) -> List[str]:
    """The checkpoints ``--resume`` may continue from, newest first (empty when there are none).

    The candidates are the file named by ``work_dir/last_checkpoint`` (if that file exists) and the
    ``iter_N.pth`` / ``epoch_N.pth`` files of ``work_dir``, by N, highest first (the pointer comes
    first if its name carries no N). Files in temporary names (``.iter_N.pth.tmp*``, a save cut
    short) are never candidates. A pointer that is empty, cut, or names a deleted file is reported
    and passed over.
    """
    pointer = None
    pointer_file = osp.join(work_dir, POINTER)
    if osp.isfile(pointer_file):
        with open(pointer_file) as f:
            pointer = f.read().strip() or None
    candidates = [
        osp.join(work_dir, name) for name in sorted(os.listdir(work_dir))
        if _CHECKPOINT_NAME.match(name)
    ] if osp.isdir(work_dir) else []
    pointer_ok = pointer is not None and ('://' in pointer or osp.isfile(pointer))
    if pointer_ok and _step(pointer) is None:
        return [pointer] + sorted(candidates, key=_step, reverse=True)
    if pointer_ok:
        candidates = [c for c in candidates if osp.abspath(c) != osp.abspath(pointer)]
        candidates.append(pointer)
    elif pointer is not None or osp.isfile(pointer_file):
        print_log(
            f'{pointer_file} names {pointer!r}, which is not a file; resuming from the '
            'newest checkpoint in the work dir instead', logger='current', level=logging.WARNING)
    ordered = sorted(candidates, key=lambda p: (_step(p), p == pointer), reverse=True)
    if ordered and pointer_ok and osp.abspath(ordered[0]) != osp.abspath(pointer):
        print_log(f'{ordered[0]} is newer than {pointer_file} says ({pointer}); resuming from it',
                  logger='current', level=logging.WARNING)
    return ordered


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from (the first of :func:`resumable_checkpoints`),
    or None when the work dir has none."""
    found = resumable_checkpoints(work_dir)
    return found[0] if found else None


def remove_partial_checkpoints(work_dir: str) -> list:
    """Delete the temporary files of checkpoint (and ``last_checkpoint``) writes that a crash
    cut short; returns them.

    Only for a work dir no other run is writing to (``--resume`` of a run that died).
    """
    if not osp.isdir(work_dir):
        return []
    removed = [osp.join(work_dir, n) for n in os.listdir(work_dir) if _PARTIAL_NAME.match(n)]
    for path in removed:
        os.remove(path)
    return removed


@HOOKS.register_module()
class DRNCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same options) in the order that keeps a checkpoint on disk:
    save the new one, point ``last_checkpoint`` at it (atomically), then delete outdated ones.

    Options are checked when the Runner builds its hooks: mmengine's hook takes any unknown
    keyword (``intervall=2``) and passes it on to ``runner.save_checkpoint``, which raises a
    TypeError at the first save, hours in, leaving no checkpoint. Here it is a ValueError at once.
    """

    def __init__(self, *args, **kwargs):
        valid = [
            name for name in inspect.signature(CheckpointHook.__init__).parameters
            if name not in ('self', 'kwargs')
        ]
        unknown = [key for key in kwargs if key not in valid]
        if unknown:
            hints = {key: difflib.get_close_matches(key, valid, n=1) for key in unknown}
            said = ', '.join(f'{key!r}' + (f' (did you mean {hint[0]!r}?)' if hint else '')
                             for key, hint in hints.items())
            raise ValueError(f'default_hooks.checkpoint: unknown option(s) {said}; valid: '
                             f'{valid}')
        super().__init__(*args, **kwargs)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's, but the previous best checkpoint is deleted only once the new best is on
        disk (mmengine deletes it first: a crash or a full disk during the save left none)."""
        backend = self.file_backend
        deferred = []
        backend.remove = backend.rmtree = lambda path, *args, **kwargs: deferred.append(path)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del backend.remove, backend.rmtree  # the class's methods again
        for path in deferred:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        keep = self.max_keep_ckpts
        outdated = []
        if keep > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == keep:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        self.max_keep_ckpts = -1  # mmengine's method then saves and deletes nothing
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self.max_keep_ckpts = keep
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, POINTER), self.last_ckpt)
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed
                self.file_backend.rmtree(path)

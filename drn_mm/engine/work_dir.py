"""The work dir of a run: which checkpoint ``--resume`` continues from, and whose the work dir is.

- :func:`prepare_resume` makes ``last_checkpoint`` name the newest complete checkpoint before
  mmengine's auto-resume reads it (a cut or stale pointer, a newest file cut short, the temporary
  files of a save a crash interrupted); :func:`resumable_checkpoints` is its choice.
- :class:`WorkDirClaim`: a work dir belongs to one training run at a time.

:class:`~drn_mm.engine.DRNCheckpointHook` uses both, under any Runner.
"""
import json
import logging
import os
import os.path as osp
import re
import socket
import time
import zipfile
from typing import List, Optional

from mmengine.logging import print_log

from ..models.utils.checkpoint import UnreadableCheckpointError
from .atomic import write_text_atomic

__all__ = [
    'POINTER', 'CLAIM', 'resumable_checkpoints', 'find_resumable_checkpoint',
    'remove_partial_checkpoints', 'unreadable_reason', 'prepare_resume', 'WorkDirClaim'
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
        with open(pointer_file, 'rb') as f:  # a pointer of binary garbage is no path either
            pointer = f.read(4096).decode('utf-8', 'replace').strip() or None
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


def unreadable_reason(path: str) -> Optional[str]:
    """Why a local checkpoint file cannot be a complete checkpoint, from its zip directory only
    (the end of the file: a save cut short has none), or None. Files of torch's legacy format and
    URIs pass: the load itself tells."""
    if '://' in path:
        return None
    if not osp.exists(path):
        return 'a broken link' if osp.islink(path) else 'missing'
    if not osp.isfile(path):
        return 'not a file'
    with open(path, 'rb') as f:
        magic = f.read(4)
    if magic != b'PK\x03\x04':
        return None if magic[:1] == b'\x80' else 'not a PyTorch checkpoint (no zip header)'
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        return f'cut short or corrupt ({e})'
    if not any(name.endswith('/data.pkl') for name in names):
        return 'not a PyTorch checkpoint (no data.pkl)'
    return None


def prepare_resume(work_dir: str) -> Optional[str]:
    """Make ``work_dir/last_checkpoint`` name the newest complete checkpoint, for mmengine's
    auto-resume (which reads that file); returns it, or None when there is none.

    The temporary files of saves a crash cut short are removed; a newest checkpoint that is cut
    short or corrupt is renamed ``<name>.unreadable`` (kept, not deleted) and the next newest is
    taken, each with a warning naming the files. Only for a work dir no other run is writing to
    (the resume of a run that stopped).
    """
    for path in remove_partial_checkpoints(work_dir):
        print_log(f'removed {path}: a checkpoint save cut short', logger='current',
                  level=logging.WARNING)
    candidates = resumable_checkpoints(work_dir)
    reasons = [unreadable_reason(path) for path in candidates]
    readable = [path for path, why in zip(candidates, reasons) if why is None]
    if candidates and not readable:
        tried = '; '.join(f'{path} ({why})' for path, why in zip(candidates, reasons))
        raise UnreadableCheckpointError(
            f'cannot resume from {work_dir}: no checkpoint there can be read: {tried}. The files '
            'are truncated or corrupt; move them away to train from the start')
    chosen = readable[0] if readable else None
    for path, why in zip(candidates, reasons):
        if path == chosen:
            break
        kept = f'{path}.unreadable'
        if osp.lexists(path):
            os.replace(path, kept)
            said = f'kept as {kept}'
        else:
            said = 'no file to keep'
        print_log(
            f'resume: {path} cannot be read ({why}); {said}; trying the next newest '
            f'checkpoint', logger='current', level=logging.WARNING)
    pointer = osp.join(work_dir, POINTER)
    if chosen is None:
        print_log(f'resume: no checkpoint in {work_dir}; training from the start', logger='current',
                  level=logging.WARNING)
        return None
    print_log(f'resume: from {chosen}', logger='current')
    current = None
    if osp.isfile(pointer):
        with open(pointer, 'rb') as f:
            current = f.read().decode('utf-8', 'replace').strip()
    if current != chosen:
        write_text_atomic(pointer, chosen)
    return chosen


#: the file by which a training run holds its work dir (:class:`WorkDirClaim`)
CLAIM = '.drn_mm_run.json'


class WorkDirClaim:
    """A work dir belongs to one training run at a time: the run holds ``work_dir/.drn_mm_run.json``
    (its host, pid, start, config) from before its first step to its end; a second run into the
    same work dir is refused, naming the work dir and the run that holds it. The claim of a run
    that is gone (its process no longer exists on this host; on another host: not refreshed for
    ``stale_after`` seconds, the holder refreshes it every minute) is taken over, with a warning.
    """

    def __init__(self, work_dir: str, config: str = '', stale_after: float = 900.0):
        self.path = osp.join(work_dir, CLAIM)
        self.config, self.stale_after = config, stale_after
        self._touched = 0.0

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process
            return True
        return True

    def _holder(self) -> Optional[dict]:
        try:
            with open(self.path, 'rb') as f:
                held = json.loads(f.read().decode('utf-8', 'replace'))
            return held if isinstance(held, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: a claim cut short; treated as gone

    def _gone(self, held: dict) -> bool:
        if held.get('host') == socket.gethostname():
            pid = held.get('pid')
            return not isinstance(pid, int) or pid == os.getpid() or not self._alive(pid)
        try:
            return time.time() - osp.getmtime(self.path) > self.stale_after
        except OSError:
            return True

    def acquire(self) -> None:
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        me = dict(host=socket.gethostname(), pid=os.getpid(), config=self.config,
                  started=time.strftime('%Y-%m-%d %H:%M:%S'))
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = self._holder()
                if held is None:
                    continue  # released meanwhile
                if not self._gone(held):
                    raise RuntimeError(
                        f'work dir {osp.dirname(self.path)} is in use by another training run '
                        f'(pid {held.get("pid")} on {held.get("host")}, started '
                        f'{held.get("started")}, config {held.get("config")}): two runs in one '
                        'work dir overwrite each other\'s checkpoints. Give this run its own '
                        f'--work-dir, or wait for that run to end (if it is gone, remove '
                        f'{self.path})')
                if held.get('pid') != os.getpid():
                    print_log(
                        f'{self.path}: the run that held this work dir ({held}) is gone; '
                        'taking the work dir over', logger='current', level=logging.WARNING)
                os.remove(self.path)
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump(me, f)
            self._touched = time.time()
            return
        raise RuntimeError(f'could not claim the work dir {osp.dirname(self.path)} ({self.path})')

    def refresh(self) -> None:
        """Show other hosts the holder is alive (at most once a minute)."""
        if time.time() - self._touched > 60:
            self._touched = time.time()
            try:
                os.utime(self.path)
            except OSError:
                pass

    def release(self) -> None:
        held = self._holder()
        if held is not None and held.get('pid') == os.getpid():
            os.remove(self.path)

"""A local-disk file backend whose writes a crash cannot half-do, for checkpoints.

mmengine writes a checkpoint with its file backend's ``put`` (``LocalBackend``: ``open(path,
'wb')``): a kill or a full disk mid-write leaves half a file under the final name, which
``--resume`` then takes for a checkpoint. :class:`AtomicLocalBackend` is mmengine's
``LocalBackend`` with ``put`` / ``put_text`` through :func:`~drn_mm.engine.atomic.atomic_write`
(a temporary name beside the file, then a rename), and removals that can be held back until a
new file is on disk (:meth:`AtomicLocalBackend.removals_deferred`).

It is registered with mmengine's public ``register_backend`` under its own name,
:data:`ATOMIC_LOCAL_BACKEND`, with no URI prefix: it is used only where a ``backend_args`` names
it, which :class:`~drn_mm.engine.DRNCheckpointHook` does for a checkpoint folder on a local disk.
Any other backend (``s3://``, a user's ``mem://``, ...) keeps mmengine's own save.
"""
import os.path as osp
from contextlib import contextmanager
from typing import List, Optional

from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.backends import backends

from .atomic import atomic_write

__all__ = ['ATOMIC_LOCAL_BACKEND', 'AtomicLocalBackend', 'is_local_path']

#: the name drn_mm's backend is registered under (``backend_args=dict(backend=...)``)
ATOMIC_LOCAL_BACKEND = 'drn_atomic_local'


def is_local_path(path: Optional[str]) -> bool:
    """Whether mmengine reads ``path`` with its local backend (no ``prefix://``)."""
    return path is None or '://' not in str(path)


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend``; files are written under a temporary name and renamed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._deferred: Optional[List[str]] = None

    def put(self, obj: bytes, filepath) -> None:

        def write(tmp):
            with open(tmp, 'wb') as f:
                f.write(obj)

        atomic_write(str(filepath), write)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)

    def remove(self, filepath) -> None:
        if self._deferred is not None:
            self._deferred.append(str(filepath))
        else:
            super().remove(filepath)

    def rmtree(self, dir_path) -> None:
        if self._deferred is not None:
            self._deferred.append(str(dir_path))
        else:
            super().rmtree(dir_path)

    @contextmanager
    def removals_deferred(self):
        """Hold back ``remove`` / ``rmtree`` inside the block; carry them out after it, and only
        if it ended without an error (mmengine's best-checkpoint save removes the previous best
        before it writes the new one: with this, the old one goes once the new one is there)."""
        if self._deferred is not None:  # nested: the outer block carries them out
            yield
            return
        self._deferred = []
        try:
            yield
        finally:  # on an error: forgotten, and the error goes on
            held, self._deferred = self._deferred, None
        for path in held:
            if osp.isdir(path):
                super().rmtree(path)
            elif osp.exists(path):
                super().remove(path)


if backends.get(ATOMIC_LOCAL_BACKEND) is not AtomicLocalBackend:
    register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)

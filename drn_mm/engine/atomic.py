"""The one way drn_mm writes a file that must never be seen half-written."""
import os
import os.path as osp
from typing import Callable

__all__ = ['atomic_write', 'temporary_name', 'write_text_atomic']


def temporary_name(path: str) -> str:
    """``dir/.name.tmp<pid>``: where :func:`atomic_write` writes ``dir/name`` first (the name
    :func:`~drn_mm.engine.checkpoint_hook.remove_partial_checkpoints` recognizes)."""
    return osp.join(osp.dirname(osp.abspath(path)), f'.{osp.basename(path)}.tmp{os.getpid()}')


def atomic_write(path: str, write: Callable[[str], object]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then rename it to ``path``.

    A crash at any moment leaves either the old ``path`` or the new one, never half a file; the
    temporary file is removed if ``write`` fails, and an ``OSError`` (a full disk, a folder it may
    not write) names ``path``. If ``write`` creates no file (e.g. a non-main process of a
    distributed run, which does not save), nothing is renamed.
    """
    directory = osp.dirname(osp.abspath(path))
    tmp = temporary_name(path)
    try:
        os.makedirs(directory, exist_ok=True)
        write(tmp)
        if osp.exists(tmp):
            os.replace(tmp, path)
    except OSError as e:  # ENOSPC, EACCES, ...: say which file (torch and os often do not)
        if path in str(e) or tmp in str(e):
            raise
        raise type(e)(e.errno, f'{e.strerror or e} while writing {path}', tmp) from e
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_write`."""

    def write(tmp):
        with open(tmp, 'w') as f:
            f.write(text)

    atomic_write(path, write)

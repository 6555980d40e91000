"""Checkpoints torch's weights-only loader can read: the one compat shim between mmengine 0.10 and
torch >= 2.6, as a hook (no class or global of either library is changed).

mmengine 0.10.7's Runner saves its ``MessageHub`` into every checkpoint: ``HistoryBuffer`` objects
(numpy arrays, and their statistics methods, which protocol-2 pickles as
``getattr(HistoryBuffer, 'min')``). torch >= 2.6 reads files with ``weights_only=True`` by default,
so such a file is refused (``UnpicklingError: Unsupported global: GLOBAL
mmengine.logging.history_buffer.HistoryBuffer``) by mmengine's own loaders, mmseg's ``init_model``
and ``tools/test.py`` alike; allow-listing ``getattr`` would defeat the safe loader.

:class:`PlainMessageHubHook` (run by :class:`~drn_mm.engine.DRNCheckpointHook`) writes the
message hub as plain data instead (each buffer's history as float64 tensors, numpy scalars as
Python numbers) and rebuilds the buffers when a checkpoint is loaded for ``--resume``. What it
changes: the ``message_hub`` (and ``meta``) entries of the checkpoints drn_mm's runner saves;
nothing else. tests/test_engine/test_portable_checkpoint.py shows the failure without it.
"""
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.registry import HOOKS

__all__ = ['to_plain', 'from_plain', 'PlainMessageHubHook']

#: the key of a plain dict that stands for a HistoryBuffer
HISTORY_BUFFER = '__mmengine_history_buffer__'


def to_plain(value: Any) -> Any:
    """``value`` with every HistoryBuffer and numpy value replaced by tensors, numbers and dicts
    (new containers; the original is not changed)."""
    if isinstance(value, HistoryBuffer):
        logs, counts = value.data
        return {
            HISTORY_BUFFER: True,
            'log_history': torch.from_numpy(np.asarray(logs, dtype=np.float64)),
            'count_history': torch.from_numpy(np.asarray(counts, dtype=np.float64)),
            'max_length': int(value.max_length)
        }
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return type(value)((k, to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(to_plain(v) for v in value)
    return value


def from_plain(value: Any) -> Any:
    """The inverse of :func:`to_plain` for HistoryBuffers (other tensors stay tensors)."""
    if isinstance(value, dict):
        if value.get(HISTORY_BUFFER) is True:
            return HistoryBuffer(value['log_history'].numpy(), value['count_history'].numpy(),
                                 max_length=value['max_length'])
        return type(value)((k, from_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(from_plain(v) for v in value)
    return value


@HOOKS.register_module()
class PlainMessageHubHook(Hook):
    """Saves the message hub and meta as plain data and rebuilds the buffers on load."""

    priority = 'LOWEST'  # after every other hook has added to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('message_hub', 'meta'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])

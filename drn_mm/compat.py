"""Let torch >= 2.6 (``torch.load(weights_only=True)`` by default) read mmengine's own checkpoints.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; a checkpoint it saved holds its
``HistoryBuffer`` logs (numpy arrays inside), so resuming or testing fails with
``UnpicklingError: Unsupported global: GLOBAL mmengine.logging.history_buffer.HistoryBuffer``.
Rather than turning the safe loader off, the few types mmengine writes are allow-listed, and
``HistoryBuffer`` is made to pickle without its table of bound statistics methods (which pickle as
``getattr(HistoryBuffer, 'min')``: allow-listing ``getattr`` would defeat ``weights_only``). The
default methods are restored from the class on load, as mmengine's ``__setstate__`` already does.
"""
import numpy as np
import torch


def _numpy_globals():
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [
        type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                                    np.int64, np.uint8, np.bool_)
    ]
    return [_reconstruct, scalar, np.ndarray, np.dtype] + dtype_classes


_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getstate(self) -> dict:
    """Like mmengine's, but leaves out the default statistics methods (restored on load)."""
    state = {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}
    custom = {
        name: method
        for name, method in self._statistics_methods.items() if name not in _DEFAULT_STATISTICS
    }
    if custom:  # user-registered statistics still round-trip (with weights_only=False)
        state['statistics_methods'] = custom
    return state


def allow_mmengine_checkpoints() -> None:
    """Make checkpoints saved by mmengine's Runner loadable with ``weights_only=True``."""
    from mmengine.logging import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 loads everything anyway
        add([HistoryBuffer] + _numpy_globals())


allow_mmengine_checkpoints()

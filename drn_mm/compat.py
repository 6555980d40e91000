"""Let torch >= 2.6 (``torch.load(weights_only=True)`` by default) read mmengine's own checkpoints.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; a checkpoint it saved holds its
``HistoryBuffer`` logs (numpy arrays inside), so resuming or testing fails with
``UnpicklingError: Unsupported global: GLOBAL mmengine.logging.history_buffer.HistoryBuffer``.
Rather than turning the safe loader off, the few types mmengine writes are allow-listed.
"""
import numpy as np
import torch


def _numpy_globals():
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
        np.bool_)]
    return [_reconstruct, scalar, np.ndarray, np.dtype] + dtype_classes


def allow_mmengine_checkpoints() -> None:
    """Allow-list the globals found in checkpoints saved by mmengine's Runner."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4 loads everything anyway
        return
    from mmengine.logging import HistoryBuffer
    add([HistoryBuffer] + _numpy_globals())


allow_mmengine_checkpoints()

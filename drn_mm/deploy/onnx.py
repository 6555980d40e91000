"""ONNX export of segmentors (DRN's and mmseg's), optionally with BatchNorm folded.

The exported graph is the segmentor's tensor path, ``model(inputs, mode='tensor')``: normalized
images (N, 3, H, W) in, the decode head's logits out (DRNSegHead: (N, classes, H, W) after its
fixed x8 upsampling; mmseg heads: stride-8 logits). Batch, height and width are dynamic axes by
default. Data preprocessing (BGR->RGB, mean/std) and the final argmax stay outside the graph.
"""
import copy
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from .fold_bn import fold_batchnorm

__all__ = ['TensorForward', 'export_onnx', 'onnx_parity']


class TensorForward(nn.Module):
    """``segmentor(inputs, mode='tensor')`` as a one-argument module (what exporters trace)."""

    def __init__(self, segmentor: nn.Module):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs):
        return self.segmentor(inputs, mode='tensor')


def export_onnx(model: nn.Module, path: str, size: Sequence[int] = (512, 1024), batch: int = 1,
                fold_bn: bool = False, dynamic: bool = True, opset: int = 17) -> str:
    """Write ``model``'s tensor path to ``path`` as ONNX; ``model`` itself is left unchanged.

    Args:
        model: an mmseg segmentor (e.g. EncoderDecoder with DRN + DRNSegHead).
        size: (H, W) of the example input the graph is traced with.
        batch: batch of the example input.
        fold_bn: fold BatchNorm into the convs first (:func:`drn_mm.deploy.fold_batchnorm`).
        dynamic: batch, height and width as dynamic axes.
        opset: ONNX opset.
    """
    model = copy.deepcopy(model).cpu().eval()
    if fold_bn:
        fold_batchnorm(model)
    example = torch.zeros(batch, 3, *size)
    axes = None
    if dynamic:
        axes = {
            'inputs': {
                0: 'batch',
                2: 'height',
                3: 'width'
            },
            'logits': {
                0: 'batch',
                2: 'logits_height',
                3: 'logits_width'
            }
        }
    with torch.no_grad():
        torch.onnx.export(
            TensorForward(model), (example, ), path, input_names=['inputs'],
            output_names=['logits'], dynamic_axes=axes, opset_version=opset,
            do_constant_folding=True, dynamo=False)
    return path


def onnx_parity(model: nn.Module, path: str, inputs: torch.Tensor,
                providers: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Run ``path`` in onnxruntime and ``model``'s tensor path in PyTorch (fp32, CPU) on
    ``inputs``; returns ``max_abs_err``, ``max_rel_err`` (max abs err / max |PyTorch|) and the
    output shape."""
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=list(providers or ['CPUExecutionProvider']))
    model = copy.deepcopy(model).cpu().float().eval()
    with torch.no_grad():
        expected = model(inputs.float().cpu(), mode='tensor').numpy()
    actual = session.run(None, {session.get_inputs()[0].name: inputs.float().cpu().numpy()})[0]
    if actual.shape != expected.shape:
        raise ValueError(f'ONNX output shape {actual.shape} != PyTorch {expected.shape}')
    err = float(np.abs(actual - expected).max())
    scale = max(float(np.abs(expected).max()), 1e-12)
    return dict(max_abs_err=err, max_rel_err=err / scale, shape=list(actual.shape))

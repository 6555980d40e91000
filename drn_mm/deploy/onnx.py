"""ONNX export of segmentors (DRN's and mmseg's), optionally with BatchNorm folded.

The exported graph is the segmentor's tensor path, ``model(inputs, mode='tensor')``: normalized
images (N, 3, H, W) in, the decode head's logits out (DRNSegHead: (N, classes, H, W) after its
fixed x8 upsampling; mmseg heads: stride-8 logits). Batch, height and width are dynamic axes by
default. Data preprocessing (BGR->RGB, mean/std, padding to a size divisor) and the final
argmax stay outside the graph; the file carries them as metadata
(:func:`preprocessing_metadata`, ONNX ``metadata_props``; onnxruntime:
``InferenceSession(f).get_modelmeta().custom_metadata_map``) so that a deployment can apply
exactly what the model was trained with.
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from .fold_bn import fold_batchnorm

__all__ = ['TensorForward', 'export_onnx', 'onnx_parity', 'preprocessing_metadata']


class TensorForward(nn.Module):
    """``segmentor(inputs, mode='tensor')`` as a one-argument module (what exporters trace)."""

    def __init__(self, segmentor: nn.Module):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs):
        return self.segmentor(inputs, mode='tensor')


def preprocessing_metadata(model: nn.Module) -> Dict[str, str]:
    """What the graph expects of its input and gives out, from the segmentor's data
    preprocessor and head: string key -> JSON value (ONNX metadata holds strings)."""
    pre = getattr(model, 'data_preprocessor', None)

    def values(name):
        tensor = getattr(pre, name, None)
        return None if tensor is None else [float(v) for v in tensor.flatten()]

    head = getattr(model, 'decode_head', None)
    meta = dict(
        input='float32 (N, 3, H, W): the image in RGB (if bgr_to_rgb, reorder a BGR image '
        'first), minus mean, divided by std, zero-padded at the bottom/right to a multiple of '
        'size_divisor', mean=values('mean'), std=values('std'),
        bgr_to_rgb=bool(getattr(pre, 'channel_conversion', False)),
        size_divisor=getattr(pre, 'size_divisor', None), pad_val=getattr(pre, 'pad_val', None),
        output='logits (N, num_classes, h, w); crop the padding, resize to the image, argmax',
        num_classes=getattr(head, 'num_classes', None), classes=list(
            (getattr(model, 'dataset_meta', None) or {}).get('classes', []) or []))
    return {k: json.dumps(v) for k, v in meta.items()}


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
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
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
    import onnx
    graph = onnx.load(path)
    for key, value in preprocessing_metadata(model).items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, path)
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

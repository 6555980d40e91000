"""Deployment: BatchNorm folding and ONNX export."""
from .fold_bn import fold_batchnorm, fold_conv_bn, load_folded_checkpoint, unfolded_batchnorms
from .onnx import TensorForward, export_onnx, onnx_parity
from .precision import PRECISIONS, build_predictor, cpu_features, use_predictor

__all__ = [
    'fold_batchnorm', 'fold_conv_bn', 'load_folded_checkpoint', 'unfolded_batchnorms',
    'TensorForward', 'export_onnx', 'onnx_parity', 'PRECISIONS', 'build_predictor', 'cpu_features',
    'use_predictor'
]

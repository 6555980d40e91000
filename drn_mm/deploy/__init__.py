"""Deployment: BatchNorm folding (and BN calibration of random weights), ONNX export and the
inference precision paths."""
from .fold_bn import (calibrate_batchnorm, fold_batchnorm, fold_conv_bn, load_folded_checkpoint,
                      unfolded_batchnorms)
from .onnx import TensorForward, export_onnx, onnx_parity
from .precision import PRECISIONS, build_predictor, cpu_features, use_predictor

__all__ = [
    'calibrate_batchnorm', 'fold_batchnorm', 'fold_conv_bn', 'load_folded_checkpoint',
    'unfolded_batchnorms', 'TensorForward', 'export_onnx', 'onnx_parity', 'PRECISIONS',
    'build_predictor', 'cpu_features', 'use_predictor'
]

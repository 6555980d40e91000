"""Inference measurements: a model prepared in a mode, timed, compared with fp32.

What is timed: ``model.predict(inputs, data_samples)`` on preprocessed inputs (what mmseg's
benchmark times: backbone, head, resize to the input size, argmax; for a classifier: backbone,
head, softmax scores), or with ``infer_path='tensor'`` ``model(inputs, mode='tensor')`` (raw
head logits), under ``torch.no_grad()``. Each measurement: ``warmup`` calls (the first one timed
alone: compilation, cuDNN autotuning), then ``repeats`` timings of ``iters`` calls each
(:func:`~drn_mm.benchmark.timing.time_calls`).
"""
import copy
from typing import Dict, Optional

import torch
import torch.nn as nn

from ..apis import model_task
from ..deploy.fold_bn import fold_batchnorm
from ..engine.hooks import to_channels_last
from .inputs import predict_batch
from .settings import BenchmarkSettings, Mode
from .timing import compile_fn, release, strict_fp32, time_calls

__all__ = [
    'prepare_inference_model', 'inference_call', 'compare_outputs', 'measure_inference',
    'fp32_reference', 'logits_of'
]


def prepare_inference_model(base: nn.Module, mode: Mode, device: torch.device,
                            settings: BenchmarkSettings) -> nn.Module:
    """A copy of ``base`` on ``device``, in eval mode, transformed as ``mode`` says."""
    model = copy.deepcopy(base)
    if mode.fold_bn:
        fold_batchnorm(model)
    model.to(device).eval()
    if mode.channels_last:
        to_channels_last(model)
    if mode.compile:
        if model_task(model) == 'cls':
            target = 'extract_feat'
        else:
            target = 'encode_decode' if settings.infer_path == 'predict' else '_forward'
        setattr(model, target, compile_fn(getattr(model, target), settings))
    return model


def _infer_call(model, inputs, data_samples, path):
    if path == 'predict':
        return lambda: model.predict(inputs, data_samples)
    return lambda: model(inputs, mode='tensor')


def _logits(output, path) -> torch.Tensor:
    """Segmentation logits (N, C, H, W), or classification scores / logits (N, C)."""
    if path == 'predict':
        return torch.stack([
            sample.seg_logits.data if hasattr(sample, 'seg_logits') else sample.pred_score
            for sample in output
        ]).float()
    return output.float()


def compare_outputs(output: torch.Tensor, reference: torch.Tensor) -> Dict[str, float]:
    """Errors of ``output`` against ``reference`` logits (N, C, H, W) or (N, C).

    ``max_rel_err`` is max |output - reference| / max |reference|; ``label_agreement`` the
    fraction of pixels with the same argmax class.
    """
    diff = (output - reference).abs()
    scale = reference.abs().max().clamp_min(1e-12)
    return dict(max_abs_err=diff.max().item(), max_rel_err=(diff.max() / scale).item(),
                mean_abs_err=diff.mean().item(), reference_max_abs=scale.item(),
                label_agreement=(output.argmax(1) == reference.argmax(1)).float().mean().item())


def inference_call(model: nn.Module, mode: Mode, batch: int, device: torch.device,
                   settings: BenchmarkSettings):
    """The timed call of a prepared ``model`` (see :func:`prepare_inference_model`) at ``batch``:
    a function of no arguments, under ``torch.no_grad()`` and ``mode``'s autocast."""
    # (with cl, the model's data preprocessor already gives channels_last inputs)
    inputs, data_samples = predict_batch(model, batch, settings.infer_size, settings.seed)
    call = _infer_call(model, inputs, data_samples, settings.infer_path)

    def fn():
        with torch.no_grad(), mode.autocast(device.type):
            return call()

    return fn


def logits_of(fn, settings: BenchmarkSettings) -> torch.Tensor:
    """The logits (or scores) one call of ``fn`` gives, as float32."""
    return _logits(fn(), settings.infer_path)


def measure_inference(base: nn.Module, mode: Mode, batch: int, device: torch.device,
                      settings: BenchmarkSettings,
                      reference: Optional[torch.Tensor] = None) -> Dict[str, object]:
    """One inference measurement of ``base`` (left untouched) in ``mode`` at ``batch``, timed
    alone (the run's ``interleave=False`` path; the interleaved one is in
    :mod:`drn_mm.benchmark.run`)."""
    model = prepare_inference_model(base, mode, device, settings)
    try:
        fn = inference_call(model, mode, batch, device, settings)
        timing = time_calls(fn, device, settings.warmup, settings.repeats, settings.infer_iters)
        accuracy = None
        if reference is not None:
            accuracy = compare_outputs(logits_of(fn, settings), reference)
    finally:
        del model
        release(device, mode.compile)
    return dict(latency_ms=timing['ms'], first_call_s=timing['first_call_s'],
                peak_mem_mb=timing['peak_mem_mb'],
                throughput_ips=batch / (timing['ms']['median'] / 1e3),
                throughput_best_ips=batch / (timing['ms']['min'] / 1e3), accuracy=accuracy)


def fp32_reference(base: nn.Module, batch: int, settings: BenchmarkSettings) -> torch.Tensor:
    """Logits of ``base`` in plain fp32 eager (no TF32) on the benchmark inputs."""
    inputs, data_samples = predict_batch(base, batch, settings.infer_size, settings.seed)
    with torch.no_grad(), strict_fp32():
        return _logits(
            _infer_call(base, inputs, data_samples, settings.infer_path)(), settings.infer_path)

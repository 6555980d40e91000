"""Inference and training speed of segmentors and classifiers, side by side, in several
execution modes.

A *mode* is a precision plus optional flags joined by ``_``:

- precision: ``fp32`` (PyTorch defaults; on Ampere+ GPUs cuDNN convs may use TF32, recorded in
  the results' meta), ``amp`` (autocast to bf16 where supported, else fp16), ``bf16``, ``fp16``;
- ``cl``: channels_last (NHWC) model and inputs (:func:`drn_mm.engine.to_channels_last`);
- ``fold``: BatchNorm folded into the convs (:func:`drn_mm.fuse.fold_batchnorm`; inference only);
- ``compile``: ``torch.compile`` (static shapes). Inference compiles a segmentor's
  ``encode_decode`` (predict path) or ``_forward`` (tensor path), a classifier's
  ``extract_feat`` (backbone and neck; the small head stays eager); training compiles
  ``model.train_step`` exactly as mmengine's Runner does for ``compile=True``.

E.g. ``fp32``, ``amp_cl``, ``amp_cl_compile``, ``amp_cl_fold``.

What is timed:

- inference: ``model.predict(inputs, data_samples)`` on preprocessed inputs (what mmseg's
  benchmark times: backbone, head, resize to the input size, argmax; for a classifier: backbone,
  head, softmax scores), or with ``infer_path='tensor'`` ``model(inputs, mode='tensor')`` (raw
  head logits), under ``torch.no_grad()``;
- training, ``loop='runner'``: ``model.train_step(data, optim_wrapper)``, the step
  tools/train.py's Runner runs (data preprocessor, forward, losses, backward, optimizer step
  through mmengine's OptimWrapper / AmpOptimWrapper built from the config's ``optim_wrapper``),
  on a dataloader-style batch already on the device;
- training, ``loop='bare'``: the same model and batch in a plain PyTorch loop: forward of the
  backbone and every head (decode and auxiliary heads; a classifier's head), cross-entropy,
  backward, ``optimizer.step()`` (the config's optimizer,
  no param-wise options), ``zero_grad`` (GradScaler only for fp16);
- training, ``loop='train_py'``: the whole Runner of ``tools/train.py`` (hooks, train loop,
  DataLoader over in-memory crops, optim wrapper), timed per iteration: see
  :mod:`drn_mm.benchmark.train_py`.

Each measurement: ``warmup`` calls (the first one timed alone: compilation, cuDNN autotuning),
then ``repeats`` timings of ``iters`` calls each, with ``torch.cuda.synchronize()`` around every
timing; reported: median, min, max, mean and std of the per-call time over the repeats, and
throughput = batch / median. Peak memory is ``torch.cuda.max_memory_allocated`` over the timed
calls (CUDA only).
"""
import contextlib
import copy
import importlib
import gc
import time
import traceback
from dataclasses import asdict, dataclass
from statistics import mean, median, pstdev
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..engine.hooks import to_channels_last
from ..engine.loops import amp_dtype
from ..engine.optim import set_mixed_precision
from ..fuse import fold_batchnorm
from .flops import count_params, model_flops
from .models import (TASKS, build_model, calibrate_batchnorm, config_name, config_task,
                     load_benchmark_config, model_task, num_classes, predict_batch, train_batch)
from .published import published

__all__ = ['Mode', 'parse_mode', 'BenchmarkSettings', 'default_settings', 'time_calls',
           'measure_inference', 'measure_training', 'run_benchmark']

PRECISIONS = ('fp32', 'amp', 'bf16', 'fp16')
FLAGS = ('cl', 'fold', 'compile')
INFER_PATHS = ('predict', 'tensor')
TRAIN_LOOPS = ('runner', 'bare', 'train_py')
_PRECISION_DTYPE = {'amp': 'auto', 'bf16': 'bfloat16', 'fp16': 'float16'}


@dataclass(frozen=True)
class Mode:
    name: str
    precision: str = 'fp32'
    channels_last: bool = False
    fold_bn: bool = False
    compile: bool = False

    def dtype(self, device_type: str) -> Optional[torch.dtype]:
        """The autocast dtype on ``device_type``, or None for fp32."""
        if self.precision == 'fp32':
            return None
        return amp_dtype(device_type, _PRECISION_DTYPE[self.precision])

    def autocast(self, device_type: str):
        dtype = self.dtype(device_type)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type, dtype=dtype)


def parse_mode(name: str) -> Mode:
    """``'amp_cl_compile'`` -> ``Mode(precision='amp', channels_last=True, compile=True)``."""
    precision, *flags = name.split('_')
    if precision not in PRECISIONS:
        raise ValueError(f'mode {name!r}: precision {precision!r} is not one of {PRECISIONS} '
                         f'(a mode is a precision and flags {FLAGS} joined by "_", e.g. amp_cl)')
    unknown = [f for f in flags if f not in FLAGS]
    if unknown or len(set(flags)) != len(flags):
        raise ValueError(f'mode {name!r}: flags {flags} must be distinct, from {FLAGS}')
    return Mode(name, precision, 'cl' in flags, 'fold' in flags, 'compile' in flags)


@dataclass
class BenchmarkSettings:
    """What to measure; :func:`default_settings` gives the per-device defaults."""
    device: str = 'cpu'
    infer_size: Sequence[int] = (64, 128)
    infer_batches: Sequence[int] = (1, 2)
    train_size: Sequence[int] = (64, 128)
    train_batch: int = 2
    modes: Sequence[str] = ('fp32', 'amp_cl')
    train_modes: Sequence[str] = ('fp32', )
    train_loops: Sequence[str] = TRAIN_LOOPS
    warmup: int = 2
    repeats: int = 3
    infer_iters: int = 1
    train_iters: int = 1
    infer_path: str = 'predict'
    check_accuracy: bool = False
    cudnn_benchmark: bool = True
    compile_backend: str = 'inductor'
    compile_mode: Optional[str] = None
    flops_size: Optional[Sequence[int]] = None  # default: infer_size
    cpu_threads: Optional[int] = None  # torch.set_num_threads (CPU runs); default: torch's
    train_workers: Optional[int] = None  # train_py loop's DataLoader workers; default: config's
    seed: int = 0

    def validate(self):
        for name in list(self.modes) + list(self.train_modes):
            parse_mode(name)
        if any(parse_mode(m).fold_bn for m in self.train_modes):
            raise ValueError('BN folding is an inference transform: no "fold" in train modes')
        if self.infer_path not in INFER_PATHS:
            raise ValueError(f'infer_path={self.infer_path!r}; valid: {INFER_PATHS}')
        bad = [loop for loop in self.train_loops if loop not in TRAIN_LOOPS]
        if bad:
            raise ValueError(f'train_loops {bad}; valid: {TRAIN_LOOPS}')
        if self.train_workers is not None and self.train_workers < 0:
            raise ValueError(f'train_workers={self.train_workers}; must be >= 0')
        if self.warmup < 1 or self.repeats < 1 or self.infer_iters < 1 or self.train_iters < 1:
            raise ValueError('warmup, repeats and iters must be >= 1')
        for size in (self.infer_size, self.train_size):
            if len(size) != 2 or min(size) < 8:
                raise ValueError(f'sizes are (height, width), each >= 8; got {tuple(size)}')


def default_settings(device: str, task: str = 'seg') -> Dict[str, object]:
    """Defaults per device and task: full Cityscapes / ImageNet sizes on a GPU, tiny ones
    (seconds) on a CPU."""
    if task == 'cls':
        if device == 'cuda':
            return dict(infer_size=(224, 224), infer_batches=(1, 64), train_size=(224, 224),
                        train_batch=32, modes=('fp32', 'amp_cl', 'amp_cl_compile'),
                        train_modes=('fp32', 'amp_cl'), warmup=3, repeats=5, infer_iters=5,
                        train_iters=5)
        return dict(infer_size=(64, 64), infer_batches=(1, 2), train_size=(64, 64),
                    train_batch=2, modes=('fp32', 'amp_cl'), train_modes=('fp32', ), warmup=2,
                    repeats=3, infer_iters=1, train_iters=1)
    if device == 'cuda':
        return dict(infer_size=(1024, 2048), infer_batches=(1, 4), train_size=(512, 1024),
                    train_batch=8, modes=('fp32', 'amp_cl', 'amp_cl_compile'),
                    train_modes=('fp32', 'amp_cl'), warmup=3, repeats=5, infer_iters=3,
                    train_iters=2)
    return dict(infer_size=(64, 128), infer_batches=(1, 2), train_size=(64, 128), train_batch=2,
                modes=('fp32', 'amp_cl'), train_modes=('fp32', ), warmup=2, repeats=3,
                infer_iters=1, train_iters=1)


def resolve_device(device: str) -> torch.device:
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: no CUDA device is available')
    return torch.device(device)


# --------------------------------------------------------------------------------------- timing
def _sync(device: torch.device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def summarize(samples_s: Sequence[float]) -> Dict[str, object]:
    ms = [s * 1e3 for s in samples_s]
    med = median(ms)
    return dict(median=med, min=min(ms), max=max(ms), mean=mean(ms), std=pstdev(ms),
                spread_pct=100.0 * (max(ms) - min(ms)) / med if med > 0 else 0.0, samples=ms)


def time_calls(fn: Callable[[], object], device: torch.device, warmup: int, repeats: int,
               iters: int) -> Dict[str, object]:
    """Time ``fn``: ``warmup`` calls (the first timed alone), then ``repeats`` x ``iters`` calls.

    Returns:
        dict: ``first_call_s``, ``ms`` (summary of the per-call time over the repeats; see
        :func:`summarize`) and ``peak_mem_mb`` (CUDA) or None.
    """
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        fn()
    _sync(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    samples = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        _sync(device)
        samples.append((time.perf_counter() - start) / iters)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == 'cuda' else None
    return dict(first_call_s=first, ms=summarize(samples), peak_mem_mb=peak)


@contextlib.contextmanager
def strict_fp32():
    """No TF32 inside (the fp32 reference of accuracy checks), and no cuDNN autotuning: the
    reference runs once, so autotuning it would only cost time."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = cudnn.allow_tf32, matmul.allow_tf32, cudnn.benchmark
    cudnn.allow_tf32 = matmul.allow_tf32 = cudnn.benchmark = False
    try:
        yield
    finally:
        cudnn.allow_tf32, matmul.allow_tf32, cudnn.benchmark = saved


def _release(device: torch.device, compiled: bool = False):
    if compiled:
        torch._dynamo.reset()  # compiled code is keyed on the model: drop it with the model
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def _compile(fn, settings: BenchmarkSettings):
    return torch.compile(fn, backend=settings.compile_backend, mode=settings.compile_mode,
                         dynamic=False)


# ------------------------------------------------------------------------------------ inference
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
        setattr(model, target, _compile(getattr(model, target), settings))
    return model


def _infer_call(model, inputs, data_samples, path):
    if path == 'predict':
        return lambda: model.predict(inputs, data_samples)
    return lambda: model(inputs, mode='tensor')


def _logits(output, path) -> torch.Tensor:
    """Segmentation logits (N, C, H, W), or classification scores / logits (N, C)."""
    if path == 'predict':
        return torch.stack([sample.seg_logits.data if hasattr(sample, 'seg_logits') else
                            sample.pred_score for sample in output]).float()
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


def measure_inference(base: nn.Module, mode: Mode, batch: int, device: torch.device,
                      settings: BenchmarkSettings,
                      reference: Optional[torch.Tensor] = None) -> Dict[str, object]:
    """One inference measurement of ``base`` (left untouched) in ``mode`` at ``batch``."""
    model = prepare_inference_model(base, mode, device, settings)
    try:
        # (with cl, the model's data preprocessor already gives channels_last inputs)
        inputs, data_samples = predict_batch(model, batch, settings.infer_size, settings.seed)
        call = _infer_call(model, inputs, data_samples, settings.infer_path)

        def fn():
            with torch.no_grad(), mode.autocast(device.type):
                return call()

        timing = time_calls(fn, device, settings.warmup, settings.repeats, settings.infer_iters)
        accuracy = None
        if reference is not None:
            accuracy = compare_outputs(_logits(fn(), settings.infer_path), reference)
    finally:
        del model
        _release(device, mode.compile)
    return dict(latency_ms=timing['ms'], first_call_s=timing['first_call_s'],
                peak_mem_mb=timing['peak_mem_mb'],
                throughput_ips=batch / (timing['ms']['median'] / 1e3), accuracy=accuracy)


def fp32_reference(base: nn.Module, batch: int, settings: BenchmarkSettings) -> torch.Tensor:
    """Logits of ``base`` in plain fp32 eager (no TF32) on the benchmark inputs."""
    inputs, data_samples = predict_batch(base, batch, settings.infer_size, settings.seed)
    with torch.no_grad(), strict_fp32():
        return _logits(_infer_call(base, inputs, data_samples, settings.infer_path)(),
                       settings.infer_path)


# ------------------------------------------------------------------------------------- training
def _optim_wrapper_cfg(cfg, mode: Mode, device: torch.device) -> dict:
    wrapper = copy.deepcopy(cfg.optim_wrapper.to_dict() if hasattr(cfg.optim_wrapper, 'to_dict')
                            else dict(cfg.optim_wrapper))
    dtype = mode.dtype(device.type)
    if dtype is not None:  # as tools/train.py --amp and the amp configs
        set_mixed_precision(wrapper, dtype)
    return wrapper


def _heads(model) -> List[nn.Module]:
    if model_task(model) == 'cls':
        return [model.head]
    heads = [model.decode_head]
    aux = getattr(model, 'auxiliary_head', None)
    if isinstance(aux, nn.ModuleList):
        heads += list(aux)
    elif aux is not None:
        heads.append(aux)
    return heads


def _loss_weight(head) -> float:
    loss = getattr(head, 'loss_decode', None) or head.loss_module
    if isinstance(loss, nn.ModuleList):
        loss = loss[0]
    return float(getattr(loss, 'loss_weight', 1.0))


def _runner_step(model, mode, batch, device, cfg, settings):
    """``model.train_step(data, optim_wrapper)`` as tools/train.py's Runner runs it."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    task = model_task(model)
    with DefaultScope.overwrite_default_scope(TASKS[task]):
        optim_wrapper = build_optim_wrapper(model, _optim_wrapper_cfg(cfg, mode, device))
    data = train_batch(batch, settings.train_size, num_classes(model), device, settings.seed,
                       task=task)
    if mode.compile:  # as mmengine's Runner._maybe_compile('train_step')
        model.train_step = _compile(model.train_step, settings)
    return lambda: model.train_step(data, optim_wrapper)


def _bare_step(model, mode, batch, device, cfg, settings):
    """Forward of backbone and heads, cross-entropy, backward, optimizer step: plain PyTorch."""
    from mmengine.registry import OPTIMIZERS
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = OPTIMIZERS.build(dict(cfg.optim_wrapper.optimizer, params=params))
    task = model_task(model)
    data = train_batch(batch, settings.train_size, num_classes(model), device, settings.seed,
                       task=task)
    with torch.no_grad():
        data = model.data_preprocessor(data, True)
    x = data['inputs']  # channels_last with cl: the preprocessor converts (to_channels_last)
    samples = data['data_samples']
    if task == 'seg':
        labels = torch.cat([s.gt_sem_seg.data for s in samples]).long()
    else:
        labels = torch.cat([s.gt_label for s in samples]).long()
    heads = [(head, _loss_weight(head)) for head in _heads(model)]

    def forward_loss(x, labels):
        feats = model.extract_feat(x)
        loss = 0
        for head, weight in heads:
            logits = head(feats)
            if task == 'seg' and logits.shape[-2:] != labels.shape[-2:]:
                logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear',
                                       align_corners=head.align_corners)
            loss = loss + weight * F.cross_entropy(
                logits, labels, ignore_index=getattr(head, 'ignore_index', -100))
        return loss

    if mode.compile:
        forward_loss = _compile(forward_loss, settings)
    dtype = mode.dtype(device.type)
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None

    def step():
        with mode.autocast(device.type):
            loss = forward_loss(x, labels)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step


_STEP_BUILDERS = {'runner': _runner_step, 'bare': _bare_step}


def measure_training(base: nn.Module, cfg, mode: Mode, loop: str, device: torch.device,
                     settings: BenchmarkSettings) -> Dict[str, object]:
    """Training throughput of a copy of ``base`` in ``mode`` through ``loop`` ('runner' or
    'bare'; 'train_py' builds its own model from ``cfg``, see
    :func:`~drn_mm.benchmark.train_py.measure_train_py`); halves the batch while it does not fit
    in GPU memory."""
    if loop != 'bare' and mode.dtype(device.type) == torch.float16 and device.type != 'cuda':
        return dict(status='skipped',
                    reason="fp16 training uses mmengine's AmpOptimWrapper, which needs a GPU")
    if loop == 'train_py':
        from .train_py import measure_train_py
        return measure_train_py(cfg, mode, device, settings)

    def attempt(batch):
        model = copy.deepcopy(base).to(device).train()
        if mode.channels_last:
            to_channels_last(model)
        step = _STEP_BUILDERS[loop](model, mode, batch, device, cfg, settings)
        return time_calls(step, device, settings.warmup, settings.repeats, settings.train_iters)

    batch, timing = halve_batch_until_it_fits(settings.train_batch, attempt,
                                              lambda: _release(device, mode.compile))
    return dict(status='ok', batch=batch, step_ms=timing['ms'],
                first_call_s=timing['first_call_s'], peak_mem_mb=timing['peak_mem_mb'],
                throughput_ips=batch / (timing['ms']['median'] / 1e3))


def halve_batch_until_it_fits(batch: int, attempt: Callable[[int], object],
                              release: Callable[[], None]):
    """``(batch, attempt(batch))``, halving ``batch`` while ``attempt`` runs out of GPU memory
    (at batch 1 the error is raised); ``release()`` runs after every attempt."""
    while True:
        try:
            return batch, attempt(batch)
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            batch //= 2
        finally:
            release()


# ---------------------------------------------------------------------------------- orchestration
def _environment(device: torch.device) -> Dict[str, object]:
    import platform

    import mmengine
    import mmseg

    from ..version import __version__
    env = dict(python=platform.python_version(), torch=torch.__version__,
               mmengine=mmengine.__version__, mmseg=mmseg.__version__, drn_mm=__version__,
               device=device.type, cpu_threads=torch.get_num_threads())
    for library in ('mmcv', 'mmpretrain'):
        try:
            env[library] = importlib.import_module(library).__version__
        except ImportError:
            pass
    if device.type == 'cuda':
        env.update(device_name=torch.cuda.get_device_name(device),
                   cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   bf16_supported=torch.cuda.is_bf16_supported(),
                   tf32_cudnn_conv=torch.backends.cudnn.allow_tf32,
                   tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    else:
        env['device_name'] = platform.processor() or platform.machine()
    return env


DEFINITIONS = {
    'gflops': '2 x multiply-accumulates of Conv2d, ConvTranspose2d and Linear layers in one '
              'forward of the inference graph (mode="tensor", no auxiliary head), batch 1, '
              'at flops size',
    'params': 'all parameters of the model as trained (auxiliary heads and frozen weights '
              'included); params_infer leaves auxiliary heads out',
    'latency_ms': 'per call, over repeats of iters calls, after warm-up; median/min/max/'
                  'mean/std; spread_pct = (max - min) / median',
    'throughput_ips': 'images per second = batch / median latency',
    'peak_mem_mb': 'torch.cuda.max_memory_allocated over the timed calls (weights included); '
                   'None on CPU',
    'accuracy': 'fast path logits against fp32 eager without TF32 on the same weights and '
                'inputs: max_abs_err, max_rel_err = max_abs_err / max |reference|, '
                'label_agreement = share of pixels with the same argmax. The weights are random '
                '(BN statistics calibrated on the input): deep random nets amplify rounding and '
                'their logits are near ties, so compare a mode with the fp32 row, whose error '
                'is that of TF32 alone (PyTorch enables it for cuDNN convs by default)',
    'published': 'published accuracy of this config, not measured here: Cityscapes val mIoU '
                 '(segmentation) or ImageNet-1k val top-1 accuracy (classification); '
                 'published_metric and published_source say which and where from',
}


def _log(msg: str):
    print(f'[benchmark {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def _guarded(what: str, fn, log):
    try:
        return fn()
    except Exception as e:  # one failed measurement must not lose a long run
        log(f'{what}: FAILED: {type(e).__name__}: {e}')
        traceback.print_exc()
        return dict(status='error', error=f'{type(e).__name__}: {e}')


def _model_entry(name: str, config: str, base: nn.Module, flops_size) -> Dict[str, object]:
    aux = getattr(base, 'auxiliary_head', None)
    known = published(name)
    return dict(name=name, config=config, task=model_task(base), params=count_params(base),
                params_infer=count_params(base) - (count_params(aux) if aux is not None else 0),
                flops=model_flops(base, flops_size),
                published=known.value if known else None,
                published_metric=known.metric if known else None,
                published_source=known.source if known else None)


def _inference_rows(name, base, device, settings, log) -> List[Dict[str, object]]:
    rows = []
    for batch in settings.infer_batches:
        reference = fp32_reference(base, batch, settings) if settings.check_accuracy else None
        for mode_name in settings.modes:
            mode = parse_mode(mode_name)
            row = dict(model=name, mode=mode_name, batch=batch, size=list(settings.infer_size),
                       path=settings.infer_path)
            row.update(_guarded(f'{name} infer {mode_name} b{batch}', lambda: dict(
                measure_inference(base, mode, batch, device, settings, reference),
                status='ok'), log))
            rows.append(row)
            if row['status'] == 'ok':
                log(f'{name} infer {mode_name} b{batch}: {row["latency_ms"]["median"]:.2f} ms, '
                    f'{row["throughput_ips"]:.1f} img/s (first call {row["first_call_s"]:.1f} s)')
    return rows


def _training_rows(name, base, cfg, device, settings, log) -> List[Dict[str, object]]:
    rows = []
    for mode_name in settings.train_modes:
        mode = parse_mode(mode_name)
        for loop in settings.train_loops:
            row = dict(model=name, mode=mode_name, loop=loop,
                       batch_requested=settings.train_batch, size=list(settings.train_size))
            row.update(_guarded(f'{name} train {loop} {mode_name}', lambda: measure_training(
                base, cfg, mode, loop, device, settings), log))
            rows.append(row)
            if row['status'] == 'ok':
                log(f'{name} train {loop} {mode_name} b{row["batch"]}: '
                    f'{row["step_ms"]["median"]:.1f} ms/step, '
                    f'{row["throughput_ips"]:.1f} img/s')
            elif row['status'] == 'skipped':
                log(f'{name} train {loop} {mode_name}: skipped ({row["reason"]})')
    return rows


def common_task(configs: Sequence[str], cfg_options: Optional[dict] = None) -> str:
    """The task ('seg' or 'cls') all ``configs`` share; a ValueError if they mix tasks (their
    sizes, metrics and baselines differ: measure them in separate runs)."""
    tasks = {config: config_task(load_benchmark_config(config, cfg_options), config)
             for config in configs}
    if len(set(tasks.values())) > 1:
        by_task = {t: [c for c, ct in tasks.items() if ct == t]
                   for t in sorted(set(tasks.values()))}
        raise ValueError('segmentation and classification configs cannot share a run (sizes and '
                         f'baselines differ); run them separately: {by_task}')
    return next(iter(tasks.values()))


def run_benchmark(configs: Sequence[str], settings: BenchmarkSettings,
                  cfg_options: Optional[dict] = None, log=_log,
                  on_model_done: Optional[Callable[[Dict], None]] = None) -> Dict[str, object]:
    """Measure every config in every mode; returns the results (see tools/benchmark.py and
    :mod:`drn_mm.benchmark.report` for ratios and output files). ``on_model_done(results)`` is
    called after each config (e.g. to save partial results of a long run)."""
    settings.validate()
    common_task(configs, cfg_options)
    device = resolve_device(settings.device)
    settings.device = device.type
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    if settings.cpu_threads:
        torch.set_num_threads(settings.cpu_threads)
    flops_size = tuple(settings.flops_size or settings.infer_size)
    results = dict(meta=dict(created=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                             environment=_environment(device), settings=asdict(settings),
                             definitions=DEFINITIONS),
                   models=[], inference=[], training=[])
    start = time.perf_counter()
    for config in configs:
        name = config_name(config)
        log(f'{name}: building')
        cfg = load_benchmark_config(config, cfg_options)
        base = build_model(cfg, seed=settings.seed, crop_size=settings.train_size)
        results['models'].append(_model_entry(name, config, base, flops_size))
        base.to(device)
        calibrate_batchnorm(base, predict_batch(base, 2, settings.infer_size, settings.seed)[0])
        results['inference'] += _inference_rows(name, base, device, settings, log)
        results['training'] += _training_rows(name, base, cfg, device, settings, log)
        del base
        _release(device)
        log(f'{name}: done, {time.perf_counter() - start:.0f} s since the start')
        if on_model_done is not None:
            on_model_done(results)
    results['meta']['wall_s'] = time.perf_counter() - start
    return results

"""A benchmark run: every config, every mode, inference and training rows, the environment."""
import importlib
import time
import traceback
from dataclasses import asdict
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from ..apis import build_model, config_name, config_task, model_task, read_config
from .flops import count_params, model_flops
from .inference import fp32_reference, measure_inference
from .inputs import calibrate_batchnorm, predict_batch
from .published import published
from .settings import BenchmarkSettings, parse_mode, resolve_device
from .timing import release
from .training import measure_training

__all__ = ['DEFINITIONS', 'common_task', 'run_benchmark']


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
        env.update(
            device_name=torch.cuda.get_device_name(device), cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(), bf16_supported=torch.cuda.is_bf16_supported(),
            tf32_cudnn_conv=torch.backends.cudnn.allow_tf32,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    else:
        from ..deploy.precision import cpu_features, has_bf16_hardware
        features = cpu_features()  # the model and ISA flags (AVX2 / AVX-512 / AMX) decide speed
        env['device_name'] = features.pop('cpu') or platform.processor() or platform.machine()
        features.pop('threads')
        env.update(cpu_isa=features, cpu_bf16_hardware=has_bf16_hardware('cpu'))
    return env


DEFINITIONS = {
    'gflops':
    '2 x multiply-accumulates of Conv2d, ConvTranspose2d and Linear layers in one '
    'forward of the inference graph (mode="tensor", no auxiliary head), batch 1, '
    'at flops size',
    'params':
    'all parameters of the model as trained (auxiliary heads and frozen weights '
    'included); params_infer leaves auxiliary heads out',
    'latency_ms':
    'per call, over repeats of iters calls, after warm-up; median/min/max/'
    'mean/std; spread_pct = (max - min) / median',
    'throughput_ips':
    'images per second = batch / median latency',
    'peak_mem_mb':
    'torch.cuda.max_memory_allocated over the timed calls (weights included); '
    'None on CPU',
    'accuracy':
    'fast path logits against fp32 eager without TF32 on the same weights and '
    'inputs: max_abs_err, max_rel_err = max_abs_err / max |reference|, '
    'label_agreement = share of pixels with the same argmax. The weights are random '
    '(BN statistics calibrated on the input): deep random nets amplify rounding and '
    'their logits are near ties, so compare a mode with the fp32 row, whose error '
    'is that of TF32 alone (PyTorch enables it for cuDNN convs by default)',
    'published':
    'published accuracy of this config, not measured here: Cityscapes val mIoU '
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
                flops=model_flops(base, flops_size), published=known.value if known else None,
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

            def measure():
                result = measure_inference(base, mode, batch, device, settings, reference)
                return dict(result, status='ok')

            row.update(_guarded(f'{name} infer {mode_name} b{batch}', measure, log))
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
            row = dict(model=name, mode=mode_name, loop=loop, batch_requested=settings.train_batch,
                       size=list(settings.train_size))
            row.update(
                _guarded(f'{name} train {loop} {mode_name}',
                         lambda: measure_training(base, cfg, mode, loop, device, settings), log))
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
    tasks = {config: config_task(read_config(config, cfg_options), config) for config in configs}
    if len(set(tasks.values())) > 1:
        by_task = {
            t: [c for c, ct in tasks.items() if ct == t]
            for t in sorted(set(tasks.values()))
        }
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
    results = dict(
        meta=dict(
            created=time.strftime('%Y-%m-%dT%H:%M:%S%z'), environment=_environment(device),
            settings=asdict(settings), definitions=DEFINITIONS), models=[], inference=[],
        training=[])
    start = time.perf_counter()
    for config in configs:
        name = config_name(config)
        log(f'{name}: building')
        cfg = read_config(config, cfg_options)
        base = build_model(cfg, seed=settings.seed, crop_size=settings.train_size)
        results['models'].append(_model_entry(name, config, base, flops_size))
        base.to(device)
        calibrate_batchnorm(base, predict_batch(base, 2, settings.infer_size, settings.seed)[0])
        results['inference'] += _inference_rows(name, base, device, settings, log)
        results['training'] += _training_rows(name, base, cfg, device, settings, log)
        del base
        release(device)
        log(f'{name}: done, {time.perf_counter() - start:.0f} s since the start')
        if on_model_done is not None:
            on_model_done(results)
    results['meta']['wall_s'] = time.perf_counter() - start
    return results

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
from .inference import (compare_outputs, fp32_reference, inference_call, logits_of,
                        measure_inference, prepare_inference_model)
from .inputs import calibrate_batchnorm, predict_batch
from .interleaved import interleaved_times
from .published import published
from .roofline import PEAK, peak_probes
from .settings import BenchmarkSettings, parse_mode, resolve_device
from .timing import release, summarize
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
    'mean/std; spread_pct = (max - min) / median. With interleave (the default) every '
    'model and mode of a batch size runs in turn within each repeat, the order rotated '
    'from repeat to repeat, so a slow minute of a shared machine slows all of them',
    'throughput_ips':
    'images per second = batch / median latency; throughput_best_ips = batch / min latency',
    'ratios':
    'inference ratios (x baseline, x fp32) are of the minimum latencies (the least disturbed '
    'repeats); ratio_spread_pct = (max - min) / median of the per-repeat ratios (the two '
    'rows timed side by side in the same repeat); above 25 % the ratio is flagged unreliable. '
    'Training ratios are of median throughputs (training rows are timed one after another)',
    'peak_mem_mb':
    'torch.cuda.max_memory_allocated over the timed calls (weights included); '
    'None on CPU',
    'roofline':
    'CPU runs with interleave: results["roofline"] has, per batch, the peak GMAC/s of each dtype '
    'the modes run in (fp32, bf16), measured as one 3x3 dilated 256-channel conv at 1/8 of the '
    'input through oneDNN (channels_last; autocast for bf16), timed in the same repeats as the '
    'models (drn_mm.benchmark.roofline). A row\'s roofline: its MACs (batch x the model\'s MACs '
    'at infer_size) over its minimum latency, and that as a share of its dtype\'s peak (it can '
    'pass 100 %: one conv is what the backend reaches on DRN\'s shapes, not a hard bound)',
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


def mode_dtype(mode_name: str, device_type: str = 'cpu') -> str:
    """'fp32', 'bf16' or 'fp16': what a mode's convolutions run in on ``device_type``."""
    dtype = parse_mode(mode_name).dtype(device_type)
    return {None: 'fp32', torch.bfloat16: 'bf16', torch.float16: 'fp16'}[dtype]


#: the dtypes whose peak a CPU run measures (oneDNN conv through torch, as the modes run)
ROOFLINE_DTYPES = ('fp32', 'bf16')


def _roofline_probes(device, settings):
    """({'peak fp32 conv': fn, ...}, {that name: MACs of one call}) for the dtypes the modes run
    in (:func:`~drn_mm.benchmark.roofline.peak_probes`); none on a GPU or with
    ``settings.roofline`` off."""
    if device.type != 'cpu' or not settings.roofline:
        return {}, {}
    dtypes = [d for d in ROOFLINE_DTYPES if d in {mode_dtype(m) for m in settings.modes}]
    return peak_probes(settings.infer_size, dtypes)


def _add_roofline(rows, peaks, macs_per_image, batch):
    """Each ok row of ``batch``: its GMAC/s at its minimum latency and its share of the peak of
    its dtype measured in the same repeats (``roofline``); a row whose dtype has no peak gets
    ``roofline=None``."""
    for row in rows:
        if row['batch'] != batch or 'latency_ms' not in row:
            continue
        dtype = mode_dtype(row['mode'])
        peak = peaks.get(dtype)
        if peak is None:
            row['roofline'] = None
            continue
        gmacs = macs_per_image[row['model']] * batch / 1e9
        rate = gmacs / (row['latency_ms']['min'] / 1e3)
        row['roofline'] = dict(dtype=dtype, gmacs=gmacs, gmacs_per_s=rate,
                               peak_gmacs_per_s=peak['gmacs_per_s'],
                               pct_of_peak=100 * rate / peak['gmacs_per_s'])


def _interleaved_inference_rows(bases: Dict[str, nn.Module], device, settings, log,
                                roofline: Optional[List[Dict]] = None) -> List[Dict[str, object]]:
    """Every model in every mode, batch by batch, timed in turn within each repeat
    (:func:`~drn_mm.benchmark.interleaved.interleaved_times`). On a CPU the peak of each dtype
    the modes run in (:mod:`~drn_mm.benchmark.roofline`) is timed in the same repeats: its rows go
    to ``roofline``, and each model row gets its share of that peak."""
    rows = []
    probes, probe_macs = _roofline_probes(device, settings)  # the same probes for every batch
    macs_per_image = {
        name: model_flops(base, settings.infer_size)['gmacs'] * 1e9
        for name, base in bases.items()
    } if probes else {}
    for batch in settings.infer_batches:
        fns, by_key = {}, {}  # each fn holds its prepared model
        for name, base in bases.items():
            reference = fp32_reference(base, batch, settings) if settings.check_accuracy else None
            for mode_name in settings.modes:
                mode = parse_mode(mode_name)
                row = dict(model=name, mode=mode_name, batch=batch, size=list(settings.infer_size),
                           path=settings.infer_path, interleaved=True)
                rows.append(row)

                def prepare(base=base, mode=mode, reference=reference):
                    model = prepare_inference_model(base, mode, device, settings)
                    fn = inference_call(model, mode, batch, device, settings)
                    warm = _warm_up(fn, device, settings.warmup)
                    if reference is not None:
                        warm['accuracy'] = compare_outputs(logits_of(fn, settings), reference)
                    return dict(warm, fn=fn, status='ok')

                outcome = _guarded(f'{name} infer {mode_name} b{batch}', prepare, log)
                if outcome['status'] == 'ok':
                    fns[(name, mode_name)] = outcome.pop('fn')
                    by_key[(name, mode_name)] = row
                row.update(outcome)
        log(f'batch {batch}: {len(fns)} model/mode pairs interleaved over {settings.repeats} '
            'repeats' + (f', with {", ".join(probes)}' if probes else ''))
        for fn in probes.values():  # the models were warmed up in prepare()
            for _ in range(settings.warmup):
                fn()
        samples = interleaved_times({
            **fns,
            **probes
        }, settings.repeats, settings.infer_iters, warmup=0)
        peaks = {}  # a probe's name is a string, a row's key a (model, mode) pair
        for dtype in ROOFLINE_DTYPES:
            probe = PEAK.format(dtype)
            if probe not in probes:
                continue
            times = samples.pop(probe)
            peaks[dtype] = dict(batch=batch, probe=probe, dtype=dtype, macs=probe_macs[probe],
                                latency_ms=summarize(times),
                                gmacs_per_s=probe_macs[probe] / min(times) / 1e9)
            log(f'batch {batch}: {probe} {peaks[dtype]["gmacs_per_s"]:.1f} GMAC/s')
        if roofline is not None:
            roofline.extend(peaks.values())
        for key, times in samples.items():
            row = by_key[key]
            row['latency_ms'] = summarize(times)
            row['throughput_ips'] = batch / (row['latency_ms']['median'] / 1e3)
            row['throughput_best_ips'] = batch / (row['latency_ms']['min'] / 1e3)
            log(f'{key[0]} infer {key[1]} b{batch}: min {row["latency_ms"]["min"]:.2f} ms, '
                f'median {row["latency_ms"]["median"]:.2f} ms')
        if probes:
            _add_roofline(rows, peaks, macs_per_image, batch)
        fns.clear()  # the prepared models of this batch size go
        release(device, any(parse_mode(m).compile for m in settings.modes))
    return rows


def _warm_up(fn, device: torch.device, warmup: int) -> Dict[str, object]:
    """The first call timed alone (compilation, autotuning), ``warmup - 1`` more calls, then one
    call for the peak memory (CUDA)."""
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        fn()
    peak = None
    if device.type == 'cuda':
        sync()
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        sync()
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    return dict(first_call_s=first, peak_mem_mb=peak)


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
    bases = {}
    for config in configs:
        name = config_name(config)
        log(f'{name}: building')
        cfg = read_config(config, cfg_options)
        base = build_model(cfg, seed=settings.seed, crop_size=settings.train_size)
        results['models'].append(_model_entry(name, config, base, flops_size))
        base.to(device)
        calibrate_batchnorm(base, predict_batch(base, 2, settings.infer_size, settings.seed)[0])
        bases[name] = (base, cfg)  # all models first (interleaved inference needs them all)
    if settings.interleave:
        results['roofline'] = []
        results['inference'] = _interleaved_inference_rows(
            {
                name: base
                for name, (base, _) in bases.items()
            }, device, settings, log, roofline=results['roofline'])
        if on_model_done is not None:
            on_model_done(results)
    for name in list(bases):
        base, cfg = bases.pop(name)
        if not settings.interleave:
            results['inference'] += _inference_rows(name, base, device, settings, log)
        results['training'] += _training_rows(name, base, cfg, device, settings, log)
        del base
        release(device)
        log(f'{name}: done, {time.perf_counter() - start:.0f} s since the start')
        if on_model_done is not None:
            on_model_done(results)
    results['meta']['wall_s'] = time.perf_counter() - start
    return results

"""The inference paths of one segmentation config side by side on this machine: the authors' model
in fp32 eager (their DRNSeg, :mod:`drn_mm.benchmark.reference_model`), drn_mm fp32, bf16, int8 and
auto (:mod:`drn_mm.deploy.precision`), interleaved repeat by repeat
(:mod:`drn_mm.benchmark.interleaved`). ``tools/benchmark_precision.py`` is the command line.

The JSON records what decides CPU speed: the CPU model and ISA flags, threads, torch's ATen CPU
capability and the oneDNN / ATen ISA limits of the environment (``ONEDNN_MAX_CPU_ISA``,
``ATEN_CPU_CAPABILITY``: set them to measure a lesser CPU's torch kernels on this one; ONNX
Runtime's kernels choose their ISA from the CPU itself and ignore them).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch

from ..apis import build_model, load_model_checkpoint, read_config
from ..deploy.precision import build_predictor, cpu_features, has_bf16_hardware, label_agreement
from .inputs import calibrate_batchnorm
from .interleaved import interleaved_times, ratio_table, ratios
from .reference_model import AuthorsDRNSeg, authors_state_dict
from .roofline import (level_times, levels_markdown, path_macs, peak_probes, roofline_markdown,
                       roofline_rows)

__all__ = ['PATHS', 'ISA_LIMITS', 'compare_paths', 'paths_markdown']

PATHS = ('authors', 'fp32', 'bf16', 'int8', 'auto')
#: environment variables that cap the ISA torch's kernels use
ISA_LIMITS = ('ONEDNN_MAX_CPU_ISA', 'ATEN_CPU_CAPABILITY')
AUTHORS = 'authors fp32 eager'


def _smooth_input(size: Sequence[int], seed: int = 0) -> torch.Tensor:
    """A normalized image-like input: random at 1/16 resolution, bilinearly upsampled (labels of
    a random-weight model then depend on content, not on noise)."""
    g = torch.Generator().manual_seed(seed)
    small = torch.randn(1, 3, size[0] // 16, size[1] // 16, generator=g)
    return torch.nn.functional.interpolate(small, size=tuple(size), mode='bilinear')


def compare_paths(config: str, size: Sequence[int] = (512, 1024), paths: Sequence[str] = PATHS,
                  checkpoint: Optional[str] = None, repeats: int = 10, iters: int = 1,
                  workdir: Optional[str] = None, roofline: bool = True) -> Dict[str, object]:
    """Time ``paths`` of ``config``'s segmentor at ``size``, batch 1, side by side.

    Without ``checkpoint`` the weights are random with BN statistics of the input. Returns
    ``rows`` (per path: min/median ms, time spread, speed-up over the authors' model (or the
    first path) from the minima, the spread of the per-repeat speed-ups, ``reliable``, and for
    drn_mm's faster paths ``label_agreement_vs_fp32``), ``details`` (how each path runs),
    ``samples_ms``, ``cpu`` (model, ISA flags, threads), ``isa_limits`` and the environment.

    ``roofline``: also time, interleaved with the paths, the peak of each dtype's backend on a
    DRN-sized 3x3 conv (:mod:`drn_mm.benchmark.roofline`), and return ``roofline`` (each path's
    GMAC/s and share of its dtype's peak) and ``levels`` (per-stage time of the fastest torch
    path).
    """
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise ValueError(f'paths {unknown}; valid: {PATHS}')
    model = build_model(read_config(config))
    x = _smooth_input(size)
    if checkpoint:
        load_model_checkpoint(model, checkpoint)
    else:
        calibrate_batchnorm(model, x)
    model.eval()
    fp32 = build_predictor(model, 'fp32')
    fns, details, predictors = {}, {}, {}
    for path in paths:
        if path == 'authors':
            authors = AuthorsDRNSeg(model.backbone.arch, model.decode_head.num_classes,
                                    model.backbone.channels).eval()
            authors.load_state_dict(
                authors_state_dict(model.state_dict(), model.backbone.style), strict=True)
            fns[AUTHORS] = lambda m=authors: _no_grad(m, x)
            details[AUTHORS] = 'AuthorsDRNSeg (the reference DRNSeg), eager'
            continue
        predictor = build_predictor(model, path, calibration=[x], workdir=workdir)
        name = f'drn_mm {path}'
        fns[name], details[name], predictors[name] = (lambda p=predictor: p(x)), \
            predictor.detail, predictor
    probes, macs = {}, {}
    if roofline:
        dtypes = ['fp32'
                  ] + (['bf16'] if 'bf16' in paths else []) + (['int8'] if 'int8' in paths else [])
        probes, macs = peak_probes(size, dtypes, workdir=workdir)
        network = path_macs(model, x)
        macs.update({name: network for name in fns})
    samples = interleaved_times(dict(fns, **probes), repeats=repeats, iters=iters)
    baseline = AUTHORS if 'authors' in paths else list(fns)[0]
    rows = ratios({k: v for k, v in samples.items() if k in fns}, baseline)
    for name, predictor in predictors.items():
        if name != 'drn_mm fp32':
            rows[name]['label_agreement_vs_fp32'] = label_agreement(predictor, fp32, [x])
    extra = {}
    if roofline:
        extra['roofline'] = roofline_rows({
            k: [t / iters for t in v]
            for k, v in samples.items()
        }, macs)
        bf16 = 'bf16' in paths and has_bf16_hardware('cpu')
        extra['levels_path'] = 'drn_mm bf16' if bf16 else 'drn_mm fp32'
        extra['levels'] = level_times(model, x, bf16=bf16, repeats=min(repeats, 5))
    return dict(**extra, config=config, checkpoint=checkpoint, size=list(size), cpu=cpu_features(),
                bf16_hardware=has_bf16_hardware('cpu'),
                aten_cpu_capability=torch.backends.cpu.get_cpu_capability(),
                isa_limits={k: os.environ.get(k)
                            for k in ISA_LIMITS}, torch=torch.__version__, repeats=repeats,
                baseline=baseline, rows=rows, details=details, samples_ms={
                    k: [t * 1e3 for t in v]
                    for k, v in samples.items()
                })


def paths_markdown(result: Dict[str, object]) -> List[str]:
    """The result of :func:`compare_paths` as markdown lines: the machine, then the table."""
    cpu = result['cpu']
    isa = ', '.join(k for k, v in cpu.items() if v is True) or 'none of AVX2+'
    limits = ', '.join(f'{k}={v}' for k, v in result['isa_limits'].items() if v)
    size = 'x'.join(map(str, result['size']))
    lines = [
        f"# Inference paths: {osp.basename(result['config'])} at {size}, batch 1", '',
        f"{cpu['cpu']}; ISA: {isa}; {cpu['threads']} threads; torch kernels: "
        f"{result['aten_cpu_capability']}{'; limited by ' + limits if limits else ''}; "
        f"{result['repeats']} interleaved repeats.", ''
    ]
    lines += ratio_table(result['rows'], result['baseline'])
    agreements = {
        k: r['label_agreement_vs_fp32']
        for k, r in result['rows'].items() if 'label_agreement_vs_fp32' in r
    }
    if agreements:
        lines += [''] + [
            f'- {k}: labels agree with drn_mm fp32 on {v * 100:.2f} % of the pixels'
            for k, v in agreements.items()
        ]
    lines += [''] + [f'- {k}: {v}' for k, v in result['details'].items()]
    if result.get('roofline'):
        lines += [
            '', '## Against the peak of each dtype (roofline)', '',
            'Peaks: a 3x3 dilated conv of 256 channels at 1/8 of the input, interleaved '
            'with the paths: oneDNN fp32 / bf16 (channels_last) through torch, ONNX Runtime '
            'int8 (QDQ).', ''
        ]
        lines += roofline_markdown(result['roofline'])
        lines += [''] + levels_markdown(result['levels'], result['levels_path'])
    return lines


def _no_grad(module, x):
    with torch.no_grad():
        return module(x)

"""How far each inference path is from what this machine can do: the peak of each dtype with the
backend its path uses, measured in the same interleaved run as the models, and the per-level time
of the fastest torch path.

Peaks (multiply-accumulates per second, GMAC/s) come from one 3x3 convolution at the size of
DRN's dilated levels (256 -> 256 channels, dilation 2, on a 1/8-resolution map of the input), the
operation that holds most of DRN's MACs, run by the backend of each path:

- ``fp32``: oneDNN through torch, channels_last (the drn_mm fp32 and the authors' paths);
- ``bf16``: oneDNN through torch, channels_last under ``autocast(bfloat16)`` (the bf16 path);
- ``int8``: ONNX Runtime, the conv quantized static QDQ as the int8 path quantizes the network
  (per-channel int8 weights, uint8 activations).

A path's GMAC/s is its network's MACs (:func:`drn_mm.benchmark.flops.count_macs`) over its
minimum time; its share of the peak is that over the peak of its dtype. A single conv is not an
upper bound in the strict sense (a longer kernel may run a little faster), so a share can pass
100 %; it says where the time goes against what the backend reaches on DRN's own shapes.
"""
import math
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

__all__ = [
    'PATH_DTYPE', 'peak_probes', 'path_macs', 'roofline_rows', 'level_times', 'roofline_markdown',
    'levels_markdown'
]

#: the dtype (and so the peak) each path of drn_mm.benchmark.precision_paths runs in
PATH_DTYPE = {
    'authors fp32 eager': 'fp32',
    'drn_mm fp32': 'fp32',
    'drn_mm bf16': 'bf16',
    'drn_mm int8': 'int8'
}
PEAK = 'peak {} conv'


def _probe_shape(size: Sequence[int], channels: int = 256) -> Tuple[int, ...]:
    return (1, channels, math.ceil(size[0] / 8), math.ceil(size[1] / 8))


def _conv(channels: int) -> nn.Module:
    return nn.Conv2d(channels, channels, 3, padding=2, dilation=2, bias=False).eval()


def _int8_conv_session(conv: nn.Module, x: torch.Tensor, workdir: str):
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):

        def __init__(self):
            self.items = iter([{'inputs': x.numpy()}])

        def get_next(self):
            return next(self.items, None)

    fp32_path, int8_path = osp.join(workdir, 'peak_conv.onnx'), osp.join(workdir, 'peak_int8.onnx')
    torch.onnx.export(conv, (x, ), fp32_path, input_names=['inputs'], output_names=['out'],
                      opset_version=17, dynamo=False)
    quantize_static(fp32_path, int8_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(int8_path, options, providers=['CPUExecutionProvider'])
    feed = {'inputs': x.numpy()}
    return lambda: session.run(['out'], feed)


def peak_probes(size: Sequence[int], dtypes: Sequence[str] = ('fp32', 'bf16', 'int8'),
                workdir: Optional[str] = None) -> Tuple[Dict[str, Callable], Dict[str, int]]:
    """{'peak fp32 conv': fn, ...} for interleaved timing, and the MACs of one call of each."""
    shape = _probe_shape(size)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g)
    conv = _conv(shape[1])
    macs = math.prod(shape) * shape[1] * 9
    fns = {}
    xc = x.contiguous(memory_format=torch.channels_last)
    conv_cl = conv.to(memory_format=torch.channels_last)
    if 'fp32' in dtypes:

        def fp32():
            with torch.no_grad():
                return conv_cl(xc)

        fns[PEAK.format('fp32')] = fp32
    if 'bf16' in dtypes:

        def bf16():
            with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
                return conv_cl(xc)

        fns[PEAK.format('bf16')] = bf16
    if 'int8' in dtypes:
        fns[PEAK.format('int8')] = _int8_conv_session(conv, x, workdir or tempfile.mkdtemp())
    return fns, {name: macs for name in fns}


def path_macs(model: nn.Module, x: torch.Tensor) -> int:
    """The MACs of one inference forward of ``model`` (``mode='tensor'``) on ``x``."""
    from .flops import count_macs
    return int(count_macs(model, lambda: model(x, mode='tensor'))['total'])


def roofline_rows(samples_s: Dict[str, List[float]], macs: Dict[str, int]) -> Dict[str, Dict]:
    """Per timed function: min ms, GMAC/s; per model path also its dtype's peak and share."""
    rows = {}
    for name, times in samples_s.items():
        if name not in macs:
            continue
        best = min(times)
        rows[name] = dict(min_ms=best * 1e3, gmacs_per_s=macs[name] / best / 1e9, macs=macs[name])
    for name, row in rows.items():
        dtype = PATH_DTYPE.get(name)
        peak = rows.get(PEAK.format(dtype)) if dtype else None
        if peak:
            row.update(dtype=dtype, peak_gmacs_per_s=peak['gmacs_per_s'],
                       pct_of_peak=100 * row['gmacs_per_s'] / peak['gmacs_per_s'])
    return rows


def level_times(model: nn.Module, x: torch.Tensor, bf16: bool, repeats: int = 5) -> List[Dict]:
    """Time of each stage of one forward (stem, levels, head, x8 upsampling, layout conversions)
    of a torch path: the minimum over ``repeats`` forwards, each stage timed by hooks; with its
    MACs and GMAC/s. ``bf16``: the bf16 path's way (BN folded, channels_last, autocast)."""
    import copy

    from ..deploy.fold_bn import fold_batchnorm
    net = model
    if bf16:
        net = fold_batchnorm(copy.deepcopy(model)).eval().to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    stages = [('stem', net.backbone.stem)] + [(n, getattr(net.backbone, n))
                                              for n in net.backbone.level_names]
    head = net.decode_head
    stages.append(('head (1x1 classifier)', head.conv_seg))
    marks: Dict[str, List[float]] = {name: [] for name, _ in stages}
    starts: Dict[str, float] = {}
    logits = {}
    handles = []
    for name, module in stages:
        handles.append(
            module.register_forward_pre_hook(
                lambda m, i, n=name: starts.__setitem__(n, time.perf_counter())))
        handles.append(
            module.register_forward_hook(
                lambda m, i, o, n=name: marks[n].append(time.perf_counter() - starts[n])))
    handles.append(
        head.conv_seg.register_forward_hook(lambda m, i, o: logits.__setitem__('out', o)))
    totals = []
    autocast = torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16)
    try:
        for _ in range(repeats + 1):  # the first call warms up
            t0 = time.perf_counter()
            with torch.no_grad(), autocast:
                net(x, mode='tensor')
            totals.append(time.perf_counter() - t0)
    finally:
        for h in handles:
            h.remove()
    per = _macs_per_stage(net, x, stages)
    best = {name: min(v[1:]) for name, v in marks.items()}
    if getattr(head, 'upsample', None) == 'deconv':  # DRNSegHead's x8, inside its forward
        from torch.utils.flop_counter import FlopCounterMode
        up = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            with torch.no_grad(), autocast:
                head.upsample_logits(logits['out'])
            up.append(time.perf_counter() - t0)
        best['x8 upsampling'] = min(up[1:])
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            head.upsample_logits(logits['out'])
        per['x8 upsampling'] = counter.get_total_flops() // 2
    total = min(totals[1:])
    rest = total - sum(best.values())
    rows = [
        dict(stage=name, ms=t * 1e3, share_pct=100 * t / total, macs=per.get(name, 0),
             gmacs_per_s=per.get(name, 0) / t / 1e9 if t > 0 else None) for name, t in best.items()
    ]
    rows.append(
        dict(stage='rest (input layout, crop, Python between stages)', ms=rest * 1e3,
             share_pct=100 * rest / total, macs=0, gmacs_per_s=None))
    rows.append(
        dict(stage='total', ms=total * 1e3, share_pct=100.0, macs=sum(per.values()),
             gmacs_per_s=sum(per.values()) / total / 1e9))
    return rows


def _macs_per_stage(net, x, stages) -> Dict[str, int]:
    """The MACs of each stage: its inputs captured in one forward, then the stage alone counted
    (torch's FlopCounterMode, as :func:`~drn_mm.benchmark.flops.count_macs`)."""
    from torch.utils.flop_counter import FlopCounterMode
    captured = {}

    def keep(name):

        def hook(module, inputs, output):
            captured.setdefault(name, inputs)  # returns nothing: the output stays

        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in stages]
    try:
        with torch.no_grad():
            net(x, mode='tensor')
    finally:
        for h in handles:
            h.remove()
    counts = {}
    for name, module in stages:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            module(*captured[name])
        counts[name] = counter.get_total_flops() // 2
    return counts


def roofline_markdown(rows: Dict[str, Dict]) -> List[str]:
    lines = [
        '| timed | min ms | GMAC/s | dtype | peak GMAC/s | % of peak |', '|---|---|---|---|---|---|'
    ]
    for name, r in rows.items():
        peak = r.get('peak_gmacs_per_s')
        peak_text = '' if peak is None else f'{peak:.1f}'
        share = '' if peak is None else f"{r['pct_of_peak']:.0f} %"
        lines.append(f"| {name} | {r['min_ms']:.1f} | {r['gmacs_per_s']:.1f} | "
                     f"{r.get('dtype', '')} | {peak_text} | {share} |")
    return lines


def levels_markdown(rows: List[Dict], what: str) -> List[str]:
    lines = [
        f'Per stage, {what} (minimum of the repeats; hooks on each stage):', '',
        '| stage | ms | share | GMACs | GMAC/s |', '|---|---|---|---|---|'
    ]
    for r in rows:
        rate = '' if r['gmacs_per_s'] is None else f"{r['gmacs_per_s']:.1f}"
        lines.append(f"| {r['stage']} | {r['ms']:.2f} | {r['share_pct']:.1f} % | "
                     f"{r['macs'] / 1e9:.2f} | {rate} |")
    return lines

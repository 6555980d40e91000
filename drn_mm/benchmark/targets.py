"""The performance issue's speed targets, checked on a benchmark's results.

:func:`check_targets` reads the rows :func:`~drn_mm.benchmark.run_benchmark` wrote (after
:func:`~drn_mm.benchmark.add_ratios`) and says, for each target whose rows were measured, the
measured ratio, the threshold and whether it is met. A target whose rows are missing (the model,
mode or loop was not in the run, or its measurement failed) is listed as not measured, with what
is missing. The targets were set for one H100 at Cityscapes sizes; on other devices the ratios are
reported all the same, marked with the device they come from.

Inference targets compare throughput at batch 1 (the run's smallest batch); "fastest mode" is the
highest throughput among the model's measured modes. Training targets use the ``train_py`` loop
(the whole Runner of tools/train.py) where it was measured, else the ``runner`` loop
(``model.train_step``), and the mixed-precision channels_last mode ``amp_cl`` (else ``bf16_cl``).
"""
from typing import Dict, List, Optional

from .markdown import markdown_table

__all__ = ['TARGETS', 'check_targets', 'targets_markdown']

D22, D38 = 'drn_d_22_cityscapes', 'drn_d_38_cityscapes'
FCN = 'fcn_r50-d8_4xb2-40k_cityscapes-512x1024'
FAST_TRAIN_MODES = ('amp_cl', 'bf16_cl')
RUNNER_LOOPS = ('train_py', 'runner')

#: (key, description, threshold): the issue's targets, all "ratio >= threshold"
TARGETS = [
    ('d22_fastest_vs_fp32', 'DRN-D-22, batch 1: fastest mode vs its fp32 eager', 2.5),
    ('d22_fastest_vs_fcn', 'DRN-D-22 fastest vs FCN-R50-D8 fastest, batch 1', 1.7),
    ('d38_fastest_vs_fcn', 'DRN-D-38 fastest vs FCN-R50-D8 fastest, batch 1', 1.2),
    ('d22_runner_vs_bare', 'DRN-D-22 training, Runner (AMP, channels_last) vs bare loop', 0.9),
    ('d22_runner_amp_vs_fp32', 'DRN-D-22 training through the Runner: AMP+channels_last vs fp32',
     2.0),
]


def _ok(row) -> bool:
    return row.get('status') == 'ok'


def _infer_rows(results, model) -> List[Dict]:
    rows = [r for r in results.get('inference', []) if r['model'] == model and _ok(r)]
    if not rows:
        return []
    batch = min(r['batch'] for r in rows)
    return [r for r in rows if r['batch'] == batch]


def _fastest(results, model) -> Optional[Dict]:
    rows = _infer_rows(results, model)
    return max(rows, key=lambda r: r['throughput_ips']) if rows else None


def _train_row(results, model, modes, loops) -> Optional[Dict]:
    rows = {(r['mode'], r['loop']): r for r in results.get('training', [])
            if r['model'] == model and _ok(r)}
    for loop in loops:
        for mode in modes:
            if (mode, loop) in rows:
                return rows[mode, loop]
    return None


def _describe(row, kind='infer') -> str:
    if kind == 'infer':
        return f'{row["model"]} {row["mode"]} b{row["batch"]} {row["throughput_ips"]:.2f} img/s'
    return f'{row["model"]} {row["loop"]} {row["mode"]} {row["throughput_ips"]:.2f} img/s'


def _ratio_entry(num, den, kind, missing) -> Dict:
    if num is None or den is None:
        return dict(value=None, detail=f'needs {missing}')
    return dict(value=num['throughput_ips'] / den['throughput_ips'],
                detail=f'{_describe(num, kind)} / {_describe(den, kind)}')


def check_targets(results: Dict, d22: str = D22, d38: str = D38, fcn: str = FCN) -> List[Dict]:
    """One entry per target: ``key``, ``description``, ``threshold``, ``value`` (the measured
    ratio, or None), ``met`` (bool, or None when not measured), ``detail`` (the rows used, or what
    is missing) and ``device``; an empty list when the run has none of the three models."""
    measured = {r['model'] for kind in ('inference', 'training') for r in results.get(kind, [])}
    if not measured & {d22, d38, fcn}:
        return []  # a run of other models (e.g. classifiers): the targets do not apply
    env = results.get('meta', {}).get('environment', {})
    device = f'{env.get("device_name")} ({env.get("device")})'
    d22_fp32 = next((r for r in _infer_rows(results, d22) if r['mode'] == 'fp32'), None)
    d22_fast, d38_fast, fcn_fast = (_fastest(results, m) for m in (d22, d38, fcn))
    runner_fast = _train_row(results, d22, FAST_TRAIN_MODES, RUNNER_LOOPS)
    bare_fast = (_train_row(results, d22, (runner_fast['mode'], ), ('bare', ))
                 if runner_fast else None)
    runner_fp32 = (_train_row(results, d22, ('fp32', ), (runner_fast['loop'], ))
                   if runner_fast else None)
    entries = {
        'd22_fastest_vs_fp32': _ratio_entry(d22_fast, d22_fp32, 'infer',
                                            f'{d22} inference in fp32'),
        'd22_fastest_vs_fcn': _ratio_entry(d22_fast, fcn_fast, 'infer',
                                           f'{d22} and {fcn} inference'),
        'd38_fastest_vs_fcn': _ratio_entry(d38_fast, fcn_fast, 'infer',
                                           f'{d38} and {fcn} inference'),
        'd22_runner_vs_bare': _ratio_entry(runner_fast, bare_fast, 'train',
                                           f'{d22} training in {" or ".join(FAST_TRAIN_MODES)} '
                                           f'through {" or ".join(RUNNER_LOOPS)} and bare'),
        'd22_runner_amp_vs_fp32': _ratio_entry(runner_fast, runner_fp32, 'train',
                                               f'{d22} training through '
                                               f'{" or ".join(RUNNER_LOOPS)} in fp32 and '
                                               f'{" or ".join(FAST_TRAIN_MODES)}'),
    }
    out = []
    for key, description, threshold in TARGETS:
        entry = entries[key]
        value = entry['value']
        out.append(dict(key=key, description=description, threshold=threshold, value=value,
                        met=None if value is None else value >= threshold,
                        detail=entry['detail'], device=device))
    return out


def targets_markdown(targets: List[Dict]) -> str:
    """The targets as a markdown table."""
    rows = []
    for t in targets:
        value = '–' if t['value'] is None else f'{t["value"]:.2f}x'
        met = 'not measured' if t['met'] is None else ('yes' if t['met'] else 'NO')
        rows.append([t['description'], value, f'>= {t["threshold"]}x', met, t['detail']])
    return '\n'.join(markdown_table(['target', 'measured', 'needed', 'met', 'rows'], rows)) + '\n'

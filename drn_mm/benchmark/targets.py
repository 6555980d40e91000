"""Speed targets checked on a benchmark's results.

The targets are data (``docs/benchmark_targets.json``, passed to ``tools/benchmark.py
--targets``), not code: each is a ratio of throughputs from one run and a threshold, of one kind:

- ``fastest_vs_mode``: the model's fastest inference mode vs its ``mode`` (e.g. fp32 eager);
- ``fastest_vs_fastest``: the model's fastest inference mode vs the ``baseline`` model's;
- ``runner_vs_bare``: training through the Runner in a fast mode (``train_modes``, first found)
  vs the bare loop in the same mode;
- ``runner_fast_vs_fp32``: training through the Runner in a fast mode vs fp32 in the same loop.

:func:`check_targets` reads the rows :func:`~drn_mm.benchmark.run_benchmark` wrote and says, for
each target whose rows were measured, the measured ratio, the threshold and whether it is met. A
target whose rows are missing (the model, mode or loop was not in the run, or its measurement
failed) is listed as not measured, with what is missing; the device is recorded with every entry.

Inference targets compare the best throughput (batch / min latency) at batch 1 (the run's
smallest batch); "fastest mode" is the highest among the model's measured modes. Training
targets use the first of ``runner_loops`` (``train_py``, the whole Runner of tools/train.py,
then ``runner``, ``model.train_step``) that was measured.
"""
import json
from typing import Dict, List, Optional

from .markdown import markdown_table

__all__ = ['TARGET_KINDS', 'load_targets', 'check_targets', 'targets_markdown', 'speed_of']

TARGET_KINDS = ('fastest_vs_mode', 'fastest_vs_fastest', 'runner_vs_bare', 'runner_fast_vs_fp32')


def load_targets(path: str) -> Dict:
    """Read and check a targets file (see ``docs/benchmark_targets.json``)."""
    with open(path) as f:
        spec = json.load(f)
    for target in spec.get('targets', []):
        missing = [
            k for k in ('key', 'kind', 'model', 'threshold', 'description') if k not in target
        ]
        if missing or target['kind'] not in TARGET_KINDS:
            raise ValueError(f'{path}: target {target.get("key")!r} needs {missing} and a kind '
                             f'among {TARGET_KINDS}; got {target}')
    return spec


def _ok(row) -> bool:
    return row.get('status') == 'ok'


def speed_of(row: Dict) -> float:
    """What ratios compare: an inference row's best throughput (batch / min latency: the least
    disturbed repeat), a training row's median throughput (training steps are not interleaved)."""
    return row['throughput_best_ips'] if 'throughput_best_ips' in row else row['throughput_ips']


def _infer_rows(results, model) -> List[Dict]:
    rows = [r for r in results.get('inference', []) if r['model'] == model and _ok(r)]
    if not rows:
        return []
    batch = min(r['batch'] for r in rows)
    return [r for r in rows if r['batch'] == batch]


def _fastest(results, model) -> Optional[Dict]:
    rows = _infer_rows(results, model)
    return max(rows, key=speed_of) if rows else None


def _train_row(results, model, modes, loops) -> Optional[Dict]:
    rows = {
        (r['mode'], r['loop']): r
        for r in results.get('training', []) if r['model'] == model and _ok(r)
    }
    for loop in loops:
        for mode in modes:
            if (mode, loop) in rows:
                return rows[mode, loop]
    return None


def _describe(row, kind='infer') -> str:
    if kind == 'infer':
        return (f'{row["model"]} {row["mode"]} b{row["batch"]} {speed_of(row):.2f} img/s '
                '(best repeat)')
    return f'{row["model"]} {row["loop"]} {row["mode"]} {row["throughput_ips"]:.2f} img/s'


def _ratio_entry(num, den, kind, missing) -> Dict:
    if num is None or den is None:
        return dict(value=None, detail=f'needs {missing}')
    return dict(
        value=speed_of(num) / speed_of(den),
        detail=f'{_describe(num, kind)} / {_describe(den, kind)}')


def _entry(results, target, train_modes, runner_loops) -> Dict:
    model, kind = target['model'], target['kind']
    if kind == 'fastest_vs_mode':
        den = next((r for r in _infer_rows(results, model) if r['mode'] == target['mode']), None)
        return _ratio_entry(
            _fastest(results, model), den, 'infer', f'{model} inference in {target["mode"]}')
    if kind == 'fastest_vs_fastest':
        baseline = target['baseline']
        return _ratio_entry(
            _fastest(results, model), _fastest(results, baseline), 'infer',
            f'{model} and {baseline} inference')
    runner_fast = _train_row(results, model, train_modes, runner_loops)
    if kind == 'runner_vs_bare':
        bare = (
            _train_row(results, model, (runner_fast['mode'], ),
                       ('bare', )) if runner_fast else None)
        return _ratio_entry(
            runner_fast, bare, 'train', f'{model} training in {" or ".join(train_modes)} through '
            f'{" or ".join(runner_loops)} and bare')
    fp32 = (
        _train_row(results, model, ('fp32', ), (runner_fast['loop'], )) if runner_fast else None)
    return _ratio_entry(
        runner_fast, fp32, 'train',
        f'{model} training through {" or ".join(runner_loops)} in fp32 and '
        f'{" or ".join(train_modes)}')


def check_targets(results: Dict, spec: Dict) -> List[Dict]:
    """One entry per target of ``spec`` (:func:`load_targets`): ``key``, ``description``,
    ``threshold``, ``value`` (the measured ratio, or None), ``met`` (bool, or None when not
    measured), ``detail`` (the rows used, or what is missing) and ``device``; an empty list when
    the run has none of the targets' models."""
    targets = spec.get('targets', [])
    named = {t[k] for t in targets for k in ('model', 'baseline') if k in t}
    measured = {r['model'] for kind in ('inference', 'training') for r in results.get(kind, [])}
    if not measured & named:
        return []  # a run of other models (e.g. classifiers): the targets do not apply
    env = results.get('meta', {}).get('environment', {})
    device = f'{env.get("device_name")} ({env.get("device")})'
    train_modes = tuple(spec.get('train_modes', ('amp_cl', 'bf16_cl')))
    runner_loops = tuple(spec.get('runner_loops', ('train_py', 'runner')))
    out = []
    for target in targets:
        entry = _entry(results, target, train_modes, runner_loops)
        value, threshold = entry['value'], target['threshold']
        out.append(
            dict(key=target['key'], description=target['description'], threshold=threshold,
                 value=value, met=None if value is None else value >= threshold,
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

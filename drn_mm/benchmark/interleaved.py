"""Timing that survives a shared, noisy machine: the candidates run in turn, repeat by repeat (a
slow minute slows all of them), and each ratio comes from the minima, with the spread of its
per-repeat values to say whether it can be trusted.

A candidate's per-repeat time is the mean of ``iters`` calls. The ratio of a candidate to the
baseline is ``min(baseline) / min(candidate)`` (the least disturbed runs); the per-repeat ratios
(baseline and candidate timed side by side in the same repeat) give its spread,
``(max - min) / median``. A spread above :data:`UNRELIABLE_SPREAD` marks the ratio unreliable.
"""
from statistics import median
from typing import Dict, List, Sequence

from ..deploy.timing import interleaved_times

__all__ = ['UNRELIABLE_SPREAD', 'interleaved_times', 'ratios', 'ratio_table']

#: the per-repeat ratio spread above which a ratio is flagged unreliable
UNRELIABLE_SPREAD = 0.25


def ratios(samples: Dict[str, Sequence[float]], baseline: str) -> Dict[str, Dict[str, object]]:
    """Per candidate: min / median ms, time spread, speed-up over ``baseline`` from the minima,
    the spread of the per-repeat speed-ups and whether it is reliable."""
    base = samples[baseline]
    out = {}
    for name, times in samples.items():
        per_repeat = [b / t for b, t in zip(base, times)]
        med = median(per_repeat)
        spread = (max(per_repeat) - min(per_repeat)) / med if med > 0 else float('inf')
        out[name] = dict(
            min_ms=min(times) * 1e3, median_ms=median(times) * 1e3,
            time_spread_pct=100 * (max(times) - min(times)) / median(times),
            speedup=min(base) / min(times), speedup_median=med, speedup_spread_pct=100 * spread,
            reliable=spread <= UNRELIABLE_SPREAD, repeats=len(times))
    return out


def ratio_table(rows: Dict[str, Dict[str, object]], baseline: str) -> List[str]:
    lines = [
        f'| path | min ms | median ms | time spread | x {baseline} (from minima) | '
        'per-repeat spread of that ratio |', '|---|---|---|---|---|---|'
    ]
    for name, r in rows.items():
        flag = '' if r['reliable'] else ' **unreliable**'
        lines.append(f"| {name} | {r['min_ms']:.1f} | {r['median_ms']:.1f} | "
                     f"{r['time_spread_pct']:.0f} % | {r['speedup']:.2f} | "
                     f"{r['speedup_spread_pct']:.0f} %{flag} |")
    return lines

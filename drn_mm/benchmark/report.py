"""Ratios against a baseline, and the benchmark's JSON, markdown table and plot.

Ratios (added in place by :func:`add_ratios`, None where a side is missing):

- model: ``params_vs_baseline``, ``gflops_vs_baseline`` (this / baseline);
- inference row: ``throughput_vs_baseline`` (this best img/s / baseline best img/s in the same
  mode and batch, best = batch / min latency; equals the speedup of the minimum latencies),
  ``speedup_vs_fp32`` (the same against this model's ``fp32`` row at the same batch),
  ``memory_vs_baseline`` (peak memory, this / baseline). Rows timed interleaved also get
  ``vs_baseline_spread_pct`` / ``vs_fp32_spread_pct`` (the spread of the per-repeat ratios,
  (max - min) / median) and ``vs_baseline_reliable`` / ``vs_fp32_reliable`` (spread <= 25 %);
- training row: ``throughput_vs_baseline`` (same mode and loop), ``speedup_vs_fp32`` (same loop),
  ``memory_vs_baseline``, and for the Runner loops (``runner``: ``model.train_step``;
  ``train_py``: the whole Runner of tools/train.py) ``vs_bare`` (this img/s / the bare loop's
  img/s in the same mode);
- ``results['targets']``: speed targets of a targets file (:mod:`drn_mm.benchmark.targets`).
"""
import json
import os
import os.path as osp
from statistics import median
from typing import Dict, Optional

from .interleaved import UNRELIABLE_SPREAD
from .markdown import markdown_table
from .targets import check_targets, speed_of, targets_markdown

__all__ = ['add_ratios', 'find_baseline', 'to_markdown', 'plot', 'write_outputs']


def find_baseline(names, baseline: Optional[str], configs=None) -> str:
    """The model name ``baseline`` refers to (a name, a config path or a unique substring);
    default: the first config under ``baselines/``, else the first config."""
    names = list(names)
    if baseline is None:
        for name, config in zip(names, configs or names):
            if 'baselines' in str(config).replace('\\', '/').split('/'):
                return name
        return names[0]
    stem = osp.splitext(osp.basename(baseline))[0]
    if stem in names:
        return stem
    matches = [n for n in names if baseline in n]
    if len(matches) != 1:
        raise ValueError(f'--baseline {baseline!r} matches {matches or "no model"}; '
                         f'models: {names}')
    return matches[0]


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _ok(row) -> bool:
    return row.get('status') == 'ok'


def _ratio_spread(row, other) -> Optional[float]:
    """The spread of ``row``'s per-repeat speed-up over ``other`` when the two were timed side
    by side (interleaved), else None."""
    if not (other and row.get('interleaved') and other.get('interleaved')):
        return None
    per_repeat = [
        o / r for r, o in zip(row['latency_ms']['samples'], other['latency_ms']['samples'])
    ]
    mid = median(per_repeat)
    return 100.0 * (max(per_repeat) - min(per_repeat)) / mid


def add_ratios(results: Dict, baseline: Optional[str] = None,
               targets: Optional[Dict] = None) -> Dict:
    """Add the ratios described in the module docstring to ``results`` (in place), and the
    ``targets`` (a spec from :func:`~drn_mm.benchmark.targets.load_targets`) when given."""
    models = results['models']
    name = find_baseline([m['name'] for m in models], baseline, [m['config'] for m in models])
    results['baseline'] = name
    base_model = next(m for m in models if m['name'] == name)
    for model in models:
        model['params_vs_baseline'] = _ratio(model['params'], base_model['params'])
        model['gflops_vs_baseline'] = _ratio(model['flops']['gflops'],
                                             base_model['flops']['gflops'])

    def index(rows, *keys):
        return {tuple(r[k] for k in keys): r for r in rows if _ok(r)}

    for kind, keys in (('inference', ('batch', )), ('training', ('loop', ))):
        rows = results[kind]
        by_key = index(rows, 'model', 'mode', *keys)
        for row in rows:
            if not _ok(row):
                continue
            rest = tuple(row[k] for k in keys)
            base = by_key.get((name, row['mode']) + rest)
            fp32 = by_key.get((row['model'], 'fp32') + rest)
            row['throughput_vs_baseline'] = _ratio(speed_of(row), base and speed_of(base))
            row['speedup_vs_fp32'] = _ratio(speed_of(row), fp32 and speed_of(fp32))
            if kind == 'inference':
                for key, other in (('vs_baseline', base), ('vs_fp32', fp32)):
                    spread = _ratio_spread(row, other)
                    row[f'{key}_spread_pct'] = spread
                    row[f'{key}_reliable'] = (None if spread is None else spread <= 100 *
                                              UNRELIABLE_SPREAD)
            row['memory_vs_baseline'] = _ratio(
                row.get('peak_mem_mb'), base and base.get('peak_mem_mb'))
            if kind == 'training' and row['loop'] != 'bare':
                bare = by_key.get((row['model'], row['mode'], 'bare'))
                row['vs_bare'] = _ratio(row['throughput_ips'], bare and bare['throughput_ips'])
    results['targets'] = check_targets(results, targets) if targets else []
    return results


# ------------------------------------------------------------------------------------- markdown
def _f(value, fmt='{:.2f}', none='–'):
    return none if value is None else fmt.format(value)


def _x(value):
    return _f(value, '{:.2f}x')


def _x_spread(value, spread_pct):
    """A ratio, with the spread of its per-repeat values when it has one, flagged when the
    spread makes it unreliable."""
    if value is None or spread_pct is None:
        return _x(value)
    flag = ' **unreliable**' if spread_pct > 100 * UNRELIABLE_SPREAD else ''
    return f'{value:.2f}x ±{spread_pct:.0f}%{flag}'


def _stats(ms):
    return f'{ms["median"]:.2f} ({ms["min"]:.2f}–{ms["max"]:.2f})'


def _published(model) -> str:
    if model.get('published') is None:
        return '–'
    return f'{model["published"]:.2f} {model["published_metric"]} (published)'


def _status(row):
    return row.get('reason') or row.get('error') or row.get('status')


def to_markdown(results: Dict) -> str:
    """The results as markdown: models, inference and training tables, then the settings."""
    meta = results['meta']
    env, settings = meta['environment'], meta['settings']
    base = results['baseline']
    flops_size = ('x'.join(map(str, results['models'][0]['flops']['size']))
                  if results['models'] else '')
    lines = [
        f'# Benchmark: {env.get("device_name")} ({env["device"]}), torch {env["torch"]}, '
        f'mmseg {env["mmseg"]}',
        '',
        f'Baseline for ratios: **{base}**. Published: Cityscapes val mIoU or ImageNet-1k val '
        'top-1 accuracy as published (not measured here).',
        '',
    ]
    lines += markdown_table(
        ['model', 'params (M)', f'GFLOPs @ {flops_size}', 'params x', 'GFLOPs x', 'published'], [[
            m['name'], f'{m["params"] / 1e6:.2f}', f'{m["flops"]["gflops"]:.1f}',
            _x(m['params_vs_baseline']),
            _x(m['gflops_vs_baseline']),
            _published(m)
        ] for m in results['models']])

    rows = []
    for r in results['inference']:
        cells = [r['model'], r['mode'], str(r['batch'])]
        if not _ok(r):
            rows.append(cells + [_status(r)])
            continue
        acc = r.get('accuracy') or {}
        roof = r.get('roofline') or {}
        rows.append(cells + [
            _stats(r['latency_ms']), f'{r["throughput_ips"]:.1f}',
            _x_spread(r['throughput_vs_baseline'], r.get('vs_baseline_spread_pct')),
            _x_spread(r['speedup_vs_fp32'], r.get('vs_fp32_spread_pct')),
            _f(roof.get('gmacs_per_s'), '{:.1f}'),
            _f(roof.get('pct_of_peak'), '{:.0f} %'),
            _f(r['peak_mem_mb'], '{:.0f}'),
            _f(acc.get('max_abs_err'), '{:.2e}'),
            _f(acc.get('max_rel_err'), '{:.2e}'),
            _f(acc.get('label_agreement'), '{:.4f}')
        ])
    infer_size = 'x'.join(map(str, settings['infer_size']))
    order = ('models and modes interleaved repeat by repeat'
             if settings.get('interleave') else 'each row timed alone')
    lines += [
        '', f'## Inference ({settings["infer_path"]} path, {infer_size}; {order}; '
        f'{settings["repeats"]} repeats)', ''
    ]
    lines += markdown_table([
        'model', 'mode', 'batch', 'latency ms: median (min–max)', 'img/s (median)',
        'x baseline (minima; spread)', 'x fp32 (minima; spread)', 'GMAC/s (min)', '% of dtype peak',
        'peak MB', 'max abs err', 'max rel err', 'label agree'
    ], rows)
    if results.get('roofline'):
        lines += [
            '', '### Peak of each dtype, timed in the same repeats (roofline; a 3x3 dilated '
            '256-channel conv at 1/8 of the input, oneDNN channels_last)', ''
        ]
        lines += markdown_table(['batch of the rows', 'probe', 'min ms', 'GMAC/s'], [[
            str(p['batch']), p['probe'], f"{p['latency_ms']['min']:.2f}", f"{p['gmacs_per_s']:.1f}"
        ] for p in results['roofline']])

    rows = []
    for r in results['training']:
        if not _ok(r):
            rows.append([r['model'], r['loop'], r['mode'], str(r['batch_requested']), _status(r)])
            continue
        rows.append([
            r['model'], r['loop'], r['mode'],
            str(r['batch']),
            _stats(r['step_ms']), f'{r["throughput_ips"]:.1f}',
            _x(r['throughput_vs_baseline']),
            _x(r['speedup_vs_fp32']),
            _x(r.get('vs_bare')),
            _f(r.get('data_ms')),
            _f(r['peak_mem_mb'], '{:.0f}')
        ])
    train_size = 'x'.join(map(str, settings['train_size']))
    lines += [
        '', f'## Training ({train_size} crops; runner = model.train_step with the optim wrapper, '
        'train_py = the whole Runner of tools/train.py over in-memory crops, bare = plain '
        'PyTorch loop)', ''
    ]
    lines += markdown_table([
        'model', 'loop', 'mode', 'batch', 'step ms: median (min–max)', 'img/s', 'x baseline',
        'x fp32', 'x bare', 'data wait ms', 'peak MB'
    ], rows)
    if results.get('targets'):
        lines += [
            '', f'## Targets of the performance issue (set for one H100; measured here on '
            f'{results["targets"][0]["device"]})', '',
            targets_markdown(results['targets']).rstrip('\n')
        ]
    env_text = ', '.join(f'{k} {v}' for k, v in env.items())
    cudnn = (f'cudnn.benchmark {settings["cudnn_benchmark"]}, ' if env['device'] == 'cuda' else '')
    lines += [
        '', f'Settings: warm-up {settings["warmup"]} calls, {settings["repeats"]} repeats x '
        f'{settings["infer_iters"]} (inference) / {settings["train_iters"]} (training) calls, '
        f'{cudnn}compile backend {settings["compile_backend"]} mode {settings["compile_mode"]}, '
        f'seed {settings["seed"]}. Environment: {env_text}. '
        f'Wall time {meta.get("wall_s", 0):.0f} s.', '', 'Definitions:', ''
    ] + [f'- {k}: {v}' for k, v in meta['definitions'].items()]
    return '\n'.join(lines) + '\n'


# ----------------------------------------------------------------------------------------- plot
def plot(results: Dict, path: str, batch: Optional[int] = None) -> str:
    """PNG: inference throughput vs GFLOPs per mode (left), published accuracy (mIoU or top-1)
    vs the best throughput (right, configs with a published number). ``batch``: default the
    smallest."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = [r for r in results['inference'] if _ok(r)]
    batches = sorted({r['batch'] for r in rows})
    batch = batch if batch is not None else (batches[0] if batches else 1)
    rows = [r for r in rows if r['batch'] == batch]
    models = {m['name']: m for m in results['models']}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    modes = list(dict.fromkeys(r['mode'] for r in rows))
    markers = 'osD^v<>p*h'
    for i, mode in enumerate(modes):
        pts = [(models[r['model']]['flops']['gflops'], r['throughput_ips'], r['model'])
               for r in rows if r['mode'] == mode]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=markers[i % len(markers)],
                   label=mode, s=45)
    for name, m in models.items():
        ips = [r['throughput_ips'] for r in rows if r['model'] == name]
        if ips:
            label = name + (f'\n{_published(m)}' if m.get('published') is not None else '')
            ax.annotate(label, (m['flops']['gflops'], max(ips)), fontsize=7, xytext=(4, 4),
                        textcoords='offset points')
    size = 'x'.join(map(str, results['meta']['settings']['infer_size']))
    ax.set_xlabel(f'GFLOPs (2 x MACs) at {size}')
    ax.set_ylabel(f'inference throughput, img/s (batch {batch})')
    ax.set_title('Throughput vs FLOPs')
    ax.grid(alpha=0.3)
    if modes:
        ax.legend(fontsize=8)
    pts = []
    for name, m in models.items():
        ips = [r['throughput_ips'] for r in rows if r['model'] == name]
        if ips and m.get('published') is not None:
            pts.append((max(ips), m['published'], name))
    if pts:
        ax2.scatter([p[0] for p in pts], [p[1] for p in pts], c='tab:red')
        for x, y, name in pts:
            ax2.annotate(name, (x, y), fontsize=7, xytext=(4, 4), textcoords='offset points')
    else:
        ax2.text(0.5, 0.5, 'no config with a published accuracy', ha='center', va='center',
                 transform=ax2.transAxes)
    ax2.set_xlabel(f'best inference throughput, img/s (batch {batch})')
    metrics = sorted({m['published_metric'] for m in models.values() if m.get('published_metric')})
    label = {'mIoU': 'Cityscapes val mIoU', 'top-1': 'ImageNet-1k val top-1 accuracy, %'}
    ax2.set_ylabel('published ' + ' / '.join(label.get(m, m)
                                             for m in metrics or ['mIoU']) + ' (not measured here)')
    ax2.set_title('Published accuracy vs measured speed')
    ax2.grid(alpha=0.3)
    env = results['meta']['environment']
    fig.suptitle(f'{env.get("device_name")} ({env["device"]}), torch {env["torch"]}', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(results: Dict, out_dir: str) -> Dict[str, str]:
    """Write ``benchmark.json``, ``benchmark.md`` and ``benchmark.png`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {ext: osp.join(out_dir, f'benchmark.{ext}') for ext in ('json', 'md', 'png')}
    with open(paths['json'], 'w') as f:
        json.dump(results, f, indent=1)
    with open(paths['md'], 'w') as f:
        f.write(to_markdown(results))
    plot(results, paths['png'])
    return paths

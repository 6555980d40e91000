"""The summary of ``tools/gpu_bench.sh``: one JSON and one markdown table from the run's pieces
(the benchmark table, the CUDA-graphs run, the 2-iteration AMP training).

    python -m drn_mm.benchmark.gpu_summary OUT_DIR [--dry-run 0|1]
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

__all__ = ['summarize', 'summary_markdown']


def _read(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _amp_training(work_dir: str) -> Dict:
    """What the 2-iteration AMP run of tools/train.py logged: iterations, losses, the optim
    wrapper, and its checkpoint."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    if not logs:
        return dict(status='missing', reason=f'no log under {work_dir}')
    text = open(logs[-1]).read()
    losses = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/\d+\].*? loss: ([\d.]+)', text)]
    wrappers = re.findall(r"type='(\w*OptimWrapper)'", text)
    ok = osp.isfile(osp.join(work_dir, 'iter_2.pth')) and len(losses) == 2
    return dict(status='ok' if ok else 'failed', losses=losses, iterations=len(losses),
                optim_wrapper=wrappers[-1] if wrappers else None,
                checkpoint=osp.isfile(osp.join(work_dir, 'iter_2.pth')))


def summarize(out_dir: str, dry_run: bool) -> Dict:
    table = _read(osp.join(out_dir, 'table', 'benchmark.json'))
    if table is None:
        raise FileNotFoundError(f'{out_dir}/table/benchmark.json is missing: the table step failed '
                                f'(see {out_dir}/gpu_bench.log)')
    graphs = _read(osp.join(out_dir, 'cudagraphs', 'benchmark.json'))
    rows: List[Dict] = []
    for source, data in (('table', table), ('cudagraphs', graphs)):
        for row in (data or {}).get('inference', []):
            rows.append(
                dict(
                    kind='inference', model=row['model'], mode=row['mode'] +
                    (' (reduce-overhead: CUDA graphs)' if source == 'cudagraphs' else ''),
                    batch=row['batch'], size=row['size'], status=row['status'],
                    ms=(row.get('latency_ms') or {}).get('median'),
                    throughput_ips=row.get('throughput_ips'), peak_mem_mb=row.get('peak_mem_mb')))
    for row in table.get('training', []):
        rows.append(
            dict(kind='training', model=row['model'], mode=row['mode'], batch=row.get('batch'),
                 size=row['size'], status=row['status'], ms=(row.get('step_ms')
                                                             or {}).get('median'),
                 throughput_ips=row.get('throughput_ips'), peak_mem_mb=row.get('peak_mem_mb')))
    return dict(
        dry_run=bool(dry_run), environment=table['meta']['environment'], rows=rows,
        amp_training=_amp_training(osp.join(out_dir, 'amp_train')),
        flops={m['name']: (m.get('flops') or {}).get('gflops')
               for m in table['models']})


def summary_markdown(summary: Dict) -> str:
    env = summary['environment']
    dry = ' (dry run on the CPU: tiny sizes, not a measurement)' if summary['dry_run'] else ''
    lines = [
        f'# GPU benchmark{dry}', '',
        f"{env.get('device_name', env.get('device'))}; torch {env.get('torch')}, "
        f"mmseg {env.get('mmseg')}, drn_mm {env.get('drn_mm')}.", '',
        '| kind | model | mode | batch | size | ms (median) | img/s | peak MB | status |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for r in summary['rows']:
        ms = '' if r['ms'] is None else f"{r['ms']:.2f}"
        ips = '' if r['throughput_ips'] is None else f"{r['throughput_ips']:.1f}"
        mem = '' if r['peak_mem_mb'] is None else f"{r['peak_mem_mb']:.0f}"
        lines.append(f"| {r['kind']} | {r['model']} | {r['mode']} | {r['batch']} | "
                     f"{r['size'][0]}x{r['size'][1]} | {ms} | {ips} | {mem} | {r['status']} |")
    amp = summary['amp_training']
    lines += [
        '', f"AMP training through tools/train.py: {amp['status']}, {amp.get('iterations')} "
        f"iterations, losses {amp.get('losses')}, optim wrapper {amp.get('optim_wrapper')}."
    ]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description='Summarize a tools/gpu_bench.sh run')
    parser.add_argument('out_dir')
    parser.add_argument('--dry-run', type=int, default=0)
    args = parser.parse_args(argv)
    summary = summarize(args.out_dir, bool(args.dry_run))
    with open(osp.join(args.out_dir, 'gpu_bench.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    text = summary_markdown(summary)
    with open(osp.join(args.out_dir, 'gpu_bench.md'), 'w') as f:
        f.write(text)
    print(text)
    return 0 if summary['amp_training']['status'] == 'ok' else 1


if __name__ == '__main__':
    sys.exit(main())

"""Measure segmentors (or classifiers) from configs side by side: params, FLOPs, inference and
training speed.

    python tools/benchmark.py configs/drn/drn_d_22_cityscapes.py \\
        configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py --check-accuracy

Writes benchmark.json, benchmark.md and benchmark.png to --out-dir and prints the markdown.
On a GPU the defaults are Cityscapes sizes (inference 1024x2048 at batch 1 and 4, training
512x1024 crops at batch 8) and modes fp32, amp_cl, amp_cl_compile (training fp32, amp_cl); on a
CPU they are tiny (64x128) so a run takes seconds. mmpretrain classification configs (e.g.
configs/drn/drn-c-26_8xb32_in1k.py against configs/baselines/resnet18_8xb32_in1k.py) are measured
the same way in a run of their own, with ImageNet sizes (224x224; batch 1 and 64, training 32).
Modes are a precision (fp32, amp, bf16, fp16) with flags cl (channels_last), fold (BN folding) and
compile, joined by '_'. See
drn_mm/benchmark/ (inference.py, training.py, runner_loop.py) for what exactly is timed. Speed
targets (--targets, default docs/benchmark_targets.json) are checked on the run's rows. On a CPU
the peak of each dtype the modes run in is timed in the same repeats (a roofline: each row's
GMAC/s and its % of that peak; --no-roofline leaves it out).
"""
import argparse
import json
import os
import os.path as osp
import sys

from drn_mm.apis import DictAction, config_name
from drn_mm.benchmark import (BenchmarkSettings, add_ratios, default_settings, load_targets,
                              run_benchmark, to_markdown, write_outputs)
from drn_mm.benchmark.report import find_baseline
from drn_mm.benchmark.run import common_task
from drn_mm.benchmark.settings import INFER_PATHS, TRAIN_LOOPS, resolve_device

DEFAULT_TARGETS = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'docs', 'benchmark_targets.json')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Benchmark segmentors from configs side by side')
    p.add_argument('configs', nargs='+', help='config files (drn_mm and configs/baselines/)')
    p.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    p.add_argument(
        '--modes', nargs='*', help='inference modes, e.g. fp32 amp_cl amp_cl_compile '
        'amp_cl_fold (none: no inference)')
    p.add_argument('--train-modes', nargs='*', help='training modes, e.g. fp32 amp_cl (none: no '
                   'training)')
    p.add_argument(
        '--train-loops', nargs='*', choices=TRAIN_LOOPS,
        help='runner (model.train_step + optim wrapper), train_py (the whole Runner '
        'of tools/train.py: hooks, train loop, DataLoader over in-memory crops) and/or '
        'bare (plain PyTorch); default: all three')
    p.add_argument('--train-workers', type=int,
                   help="DataLoader workers of the train_py loop (default: the config's)")
    p.add_argument('--infer-size', nargs=2, type=int, metavar=('H', 'W'))
    p.add_argument('--infer-batch', nargs='+', type=int, help='inference batch sizes')
    p.add_argument('--train-size', nargs=2, type=int, metavar=('H', 'W'))
    p.add_argument('--train-batch', type=int, help='halved while it does not fit in memory')
    p.add_argument('--flops-size', nargs=2, type=int, metavar=('H', 'W'),
                   help='size FLOPs are counted at (default: --infer-size)')
    p.add_argument(
        '--infer-path', choices=INFER_PATHS, default='predict',
        help="predict: model.predict (logits resized to the input, argmax), as "
        "mmseg's benchmark; tensor: model(inputs, mode='tensor')")
    p.add_argument('--warmup', type=int, help='warm-up calls before timing (>= 1)')
    p.add_argument('--repeats', type=int, help='timed repeats (median and spread over these)')
    p.add_argument('--iters', type=int, help='inference calls per timed repeat')
    p.add_argument('--train-iters', type=int, help='training steps per timed repeat')
    p.add_argument(
        '--check-accuracy', action='store_true',
        help='compare every inference mode with fp32 eager (no TF32): max abs/rel '
        'error, label agreement')
    p.add_argument('--no-cudnn-benchmark', action='store_true',
                   help='leave torch.backends.cudnn.benchmark off (mmseg\'s benchmark does)')
    p.add_argument('--compile-backend', default='inductor')
    p.add_argument('--compile-mode', default=None,
                   help='torch.compile mode: default, reduce-overhead, max-autotune')
    p.add_argument(
        '--baseline', help='model the ratios are against (config name or path); '
        'default: the first config under baselines/')
    p.add_argument(
        '--targets', default=DEFAULT_TARGETS,
        help='speed targets to check (JSON, see docs/benchmark_targets.json); '
        "'none' for no targets")
    p.add_argument('--out-dir', default='work_dirs/benchmark')
    p.add_argument('--cpu-threads', type=int,
                   help='torch.set_num_threads (on a shared CPU, 1 avoids OpenMP contention)')
    p.add_argument(
        '--no-interleave', action='store_true',
        help='time each inference row alone, one after another (default: all models and modes '
        'of a batch size in turn within each repeat, so a noisy machine slows all alike)')
    p.add_argument(
        '--no-roofline', action='store_true',
        help='on a CPU, do not time the peak of each dtype beside the models (default: a 3x3 '
        'dilated conv of DRN\'s level size per dtype, interleaved with the rows; each row gets '
        'its GMAC/s and %% of that peak)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override entries of every config, key=value')
    return p.parse_args(argv)


def settings_from_args(args, task: str = 'seg') -> BenchmarkSettings:
    device = resolve_device(args.device).type
    values = default_settings(device, task)
    given = dict(modes=args.modes, train_modes=args.train_modes, train_loops=args.train_loops,
                 infer_size=args.infer_size, infer_batches=args.infer_batch,
                 train_size=args.train_size, train_batch=args.train_batch, warmup=args.warmup,
                 repeats=args.repeats, infer_iters=args.iters, train_iters=args.train_iters,
                 flops_size=args.flops_size)
    values.update({k: v for k, v in given.items() if v is not None})
    return BenchmarkSettings(device=device, infer_path=args.infer_path,
                             check_accuracy=args.check_accuracy,
                             cudnn_benchmark=not args.no_cudnn_benchmark,
                             compile_backend=args.compile_backend, compile_mode=args.compile_mode,
                             cpu_threads=args.cpu_threads, train_workers=args.train_workers,
                             seed=args.seed, interleave=not args.no_interleave,
                             roofline=not args.no_roofline, **values)


def main(argv=None):
    args = parse_args(argv)
    task = common_task(args.configs, args.cfg_options)  # fails early on a missing or mixed config
    settings = settings_from_args(args, task)
    settings.validate()
    find_baseline([config_name(c) for c in args.configs], args.baseline, args.configs)  # fail early
    targets = None if args.targets == 'none' else load_targets(args.targets)
    os.makedirs(args.out_dir, exist_ok=True)
    partial = osp.join(args.out_dir, 'benchmark.partial.json')

    def save_partial(results):  # a long GPU run keeps what it measured if it is cut short
        with open(partial, 'w') as f:
            json.dump(results, f, indent=1)

    results = run_benchmark(args.configs, settings, cfg_options=args.cfg_options,
                            on_model_done=save_partial)
    os.remove(partial)
    add_ratios(results, args.baseline, targets)
    paths = write_outputs(results, args.out_dir)
    print(to_markdown(results))
    print('wrote ' + ', '.join(paths.values()))
    failed = [r for r in results['inference'] + results['training'] if r['status'] == 'error']
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

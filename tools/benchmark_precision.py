"""The inference paths of one segmentation config side by side on this machine: the authors'
model in fp32 eager, drn_mm fp32, bf16, int8 and auto, interleaved repeat by repeat
(drn_mm.benchmark.precision_paths).

    python tools/benchmark_precision.py configs/drn/drn_d_22_cityscapes.py --size 512 1024 \\
        [--checkpoint FILE] [--paths authors fp32 bf16 int8 auto] [--repeats 10] [--out-dir DIR]

Without a checkpoint the weights are random, BN statistics taken from the input. Writes
precision_benchmark.json (samples, ratios, label agreement with fp32, CPU model, ISA flags,
threads; the roofline: each path's GMAC/s against its dtype's peak, measured in the same
interleaved run, and the per-level time of the fastest torch path) and .md. To time torch's
kernels as on a CPU without AVX-512 / bf16, run it under ONEDNN_MAX_CPU_ISA=AVX2
ATEN_CPU_CAPABILITY=avx2 (recorded in the output).
"""
import argparse
import json
import os
import os.path as osp
import sys

from drn_mm.benchmark.precision_paths import PATHS, compare_paths, paths_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(description='Inference paths side by side (drn_mm)')
    parser.add_argument('config')
    parser.add_argument('--checkpoint')
    parser.add_argument('--size', nargs=2, type=int, default=(512, 1024), metavar=('H', 'W'))
    parser.add_argument('--paths', nargs='+', default=['authors', 'fp32', 'bf16', 'int8'],
                        choices=PATHS)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--iters', type=int, default=1)
    parser.add_argument('--out-dir', default='work_dirs/precision_benchmark')
    parser.add_argument('--no-roofline', action='store_true',
                        help='leave out the peak of each dtype and the per-level table')
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    result = compare_paths(args.config, args.size, args.paths, args.checkpoint, args.repeats,
                           args.iters, workdir=args.out_dir, roofline=not args.no_roofline)
    md = paths_markdown(result)
    with open(osp.join(args.out_dir, 'precision_benchmark.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(osp.join(args.out_dir, 'precision_benchmark.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    print('\n'.join(md))


if __name__ == '__main__':
    sys.exit(main())

"""The demo street scenes at equal training time: each config trained for the same wall-clock
budget through the Runner (bf16 autocast where the CPU has it, --no-amp for fp32), then scored per
class on the val split; the thin and small classes side by side (docs/en/experiments.md).

    python tools/experiment_streets.py [CONFIG ...] --seconds 360 \\
        --out work_dirs/experiments/streets

Default configs: DRN-D-22, ResNetV1c-18 at output stride 32 and ResNetV1c-18-D8 (stride 8), all
at the demo's widths with the same head (configs/experiments/). Writes results.json and
results.md to --out.
"""
import argparse
import os
import os.path as osp
import sys

from drn_mm.analysis.experiments import compare_at_equal_time, comparison_markdown

DEFAULT = [
    'configs/experiments/drn_d_22_demo-128x256.py',
    'configs/experiments/resnetv1c_18-os32_demo-128x256.py',
    'configs/experiments/resnetv1c_18-d8_demo-128x256.py',
]


def main(argv=None):
    parser = argparse.ArgumentParser(description='Demo street scenes at equal training time')
    parser.add_argument('configs', nargs='*', default=DEFAULT)
    parser.add_argument('--seconds', type=float, default=360,
                        help='training budget of each model, seconds')
    parser.add_argument('--data-root', default='data/demo_cityscapes')
    parser.add_argument('--no-amp', action='store_true', help='train in fp32')
    parser.add_argument('--out', default='work_dirs/experiments/streets')
    args = parser.parse_args(argv)
    images = osp.join(args.data_root, 'leftImg8bit', 'val')
    labels = osp.join(args.data_root, 'gtFine', 'val')
    for path in (images, labels):
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path} not found: python -m drn_mm.demo.cityscapes --out '
                                    f'{args.data_root}')
    os.makedirs(args.out, exist_ok=True)
    rows = compare_at_equal_time(args.configs, args.seconds, args.out, images, labels,
                                 amp=not args.no_amp)
    table = comparison_markdown(rows)
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(table)
    print(table)


if __name__ == '__main__':
    sys.exit(main())

"""Gridding, level by level, of any backbone of an mmseg / mmpretrain config (drn_mm.analysis).

    python tools/analyze_gridding.py CONFIG [CHECKPOINT] [IMAGES ...] \\
        [--with CONFIG[:CHECKPOINT] ...] [--size 256 512] [--periods 2 4] \\
        [--source auto|input|LEVEL] [--out work_dirs/gridding]

Without a checkpoint the weights are random (seed 0). IMAGES are files or folders (default: the
demo's val images). --with adds models to compare side by side. Writes gridding.json,
gridding.md (the table), erf.png (effective receptive fields) and activations.png (the paper's
activation maps) to --out; docs/en/gridding.md defines the measures.
"""
import argparse
import json
import os
import os.path as osp
import sys

from drn_mm.analysis.gridding_report import (DEFAULT_IMAGES, analyze_models, gridding_markdown,
                                             load_images, plot_activations, plot_erfs)


def _model(spec: str):
    config, _, checkpoint = spec.partition(':')
    name = osp.splitext(osp.basename(config))[0] + ('' if checkpoint else ' (random init)')
    return name, config, checkpoint or None


def main(argv=None):
    parser = argparse.ArgumentParser(description='Gridding, level by level (drn_mm)')
    parser.add_argument('config')
    parser.add_argument('inputs', nargs='*', help='[CHECKPOINT] [IMAGES ...]')
    parser.add_argument('--with', dest='others', nargs='+', default=[],
                        metavar='CONFIG[:CHECKPOINT]', help='more models, side by side')
    parser.add_argument('--size', nargs=2, type=int, default=(256, 512), metavar=('H', 'W'),
                        help='images are resized to this (stride-8 maps of 32x64 by default)')
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--periods', nargs='+', type=int, default=(2, 4))
    parser.add_argument(
        '--source', default='auto',
        help="ERF taken against: 'auto' (the last level before dilation), "
        "'input', or a level name")
    parser.add_argument('--out', default='work_dirs/gridding')
    args = parser.parse_args(argv)
    inputs = list(args.inputs)
    checkpoint = inputs.pop(0) if inputs and inputs[0].endswith(('.pth', '.pt')) else None
    images = inputs or [DEFAULT_IMAGES]
    models = [_model(args.config + (f':{checkpoint}' if checkpoint else ''))]
    models += [_model(spec) for spec in args.others]
    x = load_images(images, args.size)[:args.num_images]
    source = None if args.source == 'input' else args.source
    results = analyze_models(models, x, args.periods, source)
    os.makedirs(args.out, exist_ok=True)
    table = gridding_markdown(results)
    with open(osp.join(args.out, 'gridding.md'), 'w') as f:
        f.write(table)
    with open(osp.join(args.out, 'gridding.json'), 'w') as f:
        json.dump([{
            k: r[k]
            for k in ('name', 'config', 'checkpoint', 'rows')
        } for r in results], f, indent=1)
    plot_erfs(results, osp.join(args.out, 'erf.png'))
    plot_activations(results, osp.join(args.out, 'activations.png'))
    print(table)
    print(f'wrote gridding.md, gridding.json, erf.png, activations.png to {args.out}')


if __name__ == '__main__':
    sys.exit(main())

"""Fold a segmentor's BatchNorms into its convs, for inference, and check the result.

    python tools/fold_bn.py configs/drn/drn_d_22_cityscapes.py drn_d_22_cityscapes.pth \\
        drn_d_22_cityscapes_folded.pth

The folded checkpoint loads with ``drn_mm.deploy.load_folded_checkpoint(model, path)`` into a
model built from the same config. The folded model equals the eval-mode model to float32
rounding; the tool prints the measured error.
"""
import argparse
import json
import sys

from drn_mm.apis import DictAction
from drn_mm.apis.deploy import fold_segmentor_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Fold BatchNorm into convs (inference)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint (drn_mm, or the authors\' DRN files)')
    parser.add_argument('out', help='where the folded checkpoint goes')
    parser.add_argument('--verify-size', nargs=2, type=int, default=(64, 128), metavar=('H', 'W'),
                        help='input size of the check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = fold_segmentor_checkpoint(args.config, args.checkpoint, args.out,
                                       cfg_options=args.cfg_options, verify_size=args.verify_size)
    print(json.dumps(report, indent=1))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(main())

"""Write a PNG of image | ground truth | prediction for the first images of the test split.

    python tools/show_predictions.py CONFIG CHECKPOINT --out predictions.png [--num 4]
"""
import argparse
import sys

from drn_mm.apis import DictAction
from drn_mm.visualization import show_dataset_predictions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True)
    parser.add_argument('--num', type=int, default=4)
    parser.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    args = parser.parse_args(argv)
    accuracy = show_dataset_predictions(args.config, args.checkpoint, args.out, args.num,
                                        args.split, args.device, args.cfg_options)
    print(f'wrote {args.out}; pixel accuracy per image: ' + ', '.join(f'{a:.3f}'
                                                                      for a in accuracy.values()))


if __name__ == '__main__':
    sys.exit(main())

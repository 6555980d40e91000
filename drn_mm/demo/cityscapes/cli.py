"""Command line: ``python -m drn_mm.demo.cityscapes --out data/cityscapes``."""
import argparse
from typing import Dict, Optional, Sequence

from .files import generate_demo_cityscapes
from .labels import CLASSES


def format_summary(summary: Dict) -> str:
    """A human-readable table of :func:`generate_demo_cityscapes`'s summary."""
    splits = list(summary['num_images'])
    lines = [
        f"root: {summary['root']}",
        f"size (h, w): {tuple(summary['size'])}  seed: {summary['seed']}  "
        f"converted: {summary['converted']}  seconds: {summary['seconds']}",
        'images: ' + ', '.join(f"{s} {summary['num_images'][s]} "
                               f"({'/'.join(summary['cities'][s])})"
                               for s in splits), f"{'class':<14}" + ''.join(f'{s:>10}'
                                                                            for s in splits)
    ]
    for name in CLASSES:
        lines.append(f'{name:<14}' + ''.join(f"{100 * summary['class_freq'][s][name]:>9.3f}%"
                                             for s in splits))
    lines.append(f"{'ignore (255)':<14}" + ''.join(f"{100 * summary['ignore_freq'][s]:>9.3f}%"
                                                   for s in splits))
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a small deterministic street-scene data set in the Cityscapes layout '
        '(leftImg8bit/, gtFine/ polygons + labelIds, and via mmseg\'s converter labelTrainIds '
        'and train.txt/val.txt).')
    parser.add_argument('--out', default='data/cityscapes', help='data root to write')
    parser.add_argument('--num-train', type=int, default=60, help='number of train images')
    parser.add_argument('--num-val', type=int, default=20, help='number of val images')
    parser.add_argument('--size', type=int, nargs=2, default=(128, 256), metavar=('H', 'W'),
                        help='image height and width')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--no-convert', action='store_true',
                        help='skip mmseg\'s converter (no labelTrainIds, no split lists)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    summary = generate_demo_cityscapes(args.out, num_train=args.num_train, num_val=args.num_val,
                                       size=tuple(args.size), seed=args.seed,
                                       convert=not args.no_convert)
    print(format_summary(summary))
    return summary

"""Convert an authors' DRN checkpoint (ImageNet or Cityscapes) or a torchvision ResNet (DRN-A)
to an mmengine-style drn_mm checkpoint, checked against the arch.

    python tools/convert_official_drn.py drn_c_26-ddedf421.pth drn_c_26_drn_mm.pth --arch C-26

Not needed to *load* those files (``init_cfg=dict(type='Pretrained', checkpoint=...)`` and
``tools/test.py`` take them as they are); useful to ship one drn_mm file.
"""
import argparse
import sys

from drn_mm.apis import convert_checkpoint_file
from drn_mm.models.backbones.drn import arch_names
from drn_mm.models.utils import CheckpointError, CheckpointMismatchError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint in the authors\' / torchvision layout')
    parser.add_argument('dst', help='where to write the drn_mm checkpoint')
    parser.add_argument('--arch', required=True, choices=arch_names(), help='DRN preset')
    args = parser.parse_args(argv)
    try:
        summary = convert_checkpoint_file(args.src, args.dst, args.arch)
    except (CheckpointError, CheckpointMismatchError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}: DRN-{summary["arch"]} from a {summary["layout"]} checkpoint, '
          f'{summary["num_tensors"]} tensors, heads: {", ".join(summary["heads"]) or "none"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

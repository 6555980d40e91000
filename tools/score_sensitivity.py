"""How far the DRN score moves with each protocol choice, on one checkpoint and one image set
(drn_mm.analysis.score_sensitivity). On the demo (after bash tools/demo.sh):

    python tools/score_sensitivity.py --real-images data/demo_cityscapes/leftImg8bit/val \
        --labels data/demo_cityscapes/gtFine/val --checkpoint work_dirs/demo/iter_300.pth \
        --config configs/demo/drn_d_22_demo_cityscapes-128x256.py --size 64 128 \
        --out work_dirs/score_sensitivity
"""
import argparse
import json
import os
import os.path as osp
import sys

from drn_mm.analysis.score_sensitivity import sensitivity_markdown, sensitivity_rows
from drn_mm.apis.synthesis import init_scoring_model


def main(argv=None):
    parser = argparse.ArgumentParser(description='DRN score sensitivity to protocol choices')
    parser.add_argument('--real-images', required=True)
    parser.add_argument('--labels', required=True)
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--config')
    parser.add_argument('--size', nargs=2, type=int, default=(64, 128), metavar=('H', 'W'),
                        help="the 'generated' images' size (real images resized, PIL bicubic)")
    parser.add_argument('--label-type', default='auto')
    parser.add_argument('--out', default='work_dirs/score_sensitivity')
    args = parser.parse_args(argv)
    model = init_scoring_model(args.checkpoint, args.config)
    rows = sensitivity_rows(model, args.real_images, args.labels, args.out, args.size,
                            label_kind=args.label_type)
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'sensitivity.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    table = sensitivity_markdown(rows)
    with open(osp.join(args.out, 'sensitivity.md'), 'w') as f:
        f.write(table)
    print(table)


if __name__ == '__main__':
    sys.exit(main())

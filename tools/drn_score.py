"""The DRN score of generated images (semantic image synthesis): segment them with a DRN and score
against the label maps they were generated from, under a named protocol (docs/drn_score.md).

    python tools/drn_score.py --images results/synthesized --labels data/cityscapes/gtFine/val \\
        --checkpoint drn-d-105_ms_cityscapes.pth --protocol native [--ms] \\
        --out-json score.json --out-md score.md
    # the real-image upper bound at the generated size:
    python tools/drn_score.py --images data/cityscapes/leftImg8bit/val \\
        --labels data/cityscapes/gtFine/val --checkpoint ... --real 256 512

Protocols: native, upsample-image, upsample-logits, full-res; --ms adds the reference's six-scale
test. Labels: *_labelIds.png (34 ids) or *_labelTrainIds.png (19 + 255), detected, or --label-type.
"""
import argparse
import json
import sys

from drn_mm.apis.synthesis import drn_score
from drn_mm.evaluation.synthesis import PROTOCOLS, markdown_report, write_report
from drn_mm.evaluation.synthesis.files import LABEL_KINDS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='DRN score of generated images (drn_mm)')
    parser.add_argument('--images', required=True, help='generated (or real) images, a folder')
    parser.add_argument('--labels', required=True, help='label maps, a folder (e.g. gtFine/val)')
    parser.add_argument('--checkpoint', required=True,
                        help="the authors' Cityscapes file or a drn_mm segmentation checkpoint")
    parser.add_argument(
        '--config', help='model config (default: drn_mm\'s Cityscapes config of '
        'the checkpoint\'s arch)')
    parser.add_argument('--protocol', default='native', choices=sorted(PROTOCOLS))
    parser.add_argument('--ms', action='store_true', help='the reference\'s multi-scale test')
    parser.add_argument('--label-type', default='auto', choices=LABEL_KINDS)
    parser.add_argument('--image-resize', default='bicubic',
                        choices=['nearest', 'bilinear', 'bicubic', 'lanczos', 'box'])
    parser.add_argument('--real', nargs=2, type=int, metavar=('H', 'W'),
                        help='real images: resize them to this (generated) size first')
    parser.add_argument('--normalization', default='auto', choices=['auto', 'reference', 'config'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'int8', 'auto'],
                        help='fp32 (default: the reference\'s), bf16, int8 (ONNX Runtime) or auto')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images per forward pass (single scale; 1 is the reference\'s way)')
    parser.add_argument('--limit', type=int, help='score the first N pairs only (a quick look)')
    parser.add_argument('--out-json', help='write the result as JSON')
    parser.add_argument('--out-md', help='write the result as markdown')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = drn_score(args.images, args.labels, args.checkpoint, config=args.config,
                       device=args.device, protocol=args.protocol, ms=args.ms,
                       label_kind=args.label_type, image_resize=args.image_resize,
                       real_size=args.real, normalization=args.normalization,
                       progress=not args.no_progress, limit=args.limit, batch_size=args.batch_size,
                       precision=args.precision)
    write_report(result, args.out_json, args.out_md)
    print(markdown_report(result))
    summary = {
        k: result[k]
        for k in ('mIoU', 'acc_valid', 'acc_all', 'mean_class_acc', 'void_fraction', 'protocol',
                  'multi_scale', 'num_images')
    }
    print(json.dumps(summary))


if __name__ == '__main__':
    sys.exit(main())

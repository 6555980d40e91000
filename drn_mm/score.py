"""The DRN score of generated images (semantic image synthesis) from the command line:
``python -m drn_mm.score`` (as ``python -m pytorch_fid``) or ``tools/drn_score.py``. Segment the
images with a DRN and score them against the label maps they were generated from, under a named
protocol (docs/en/drn_score.md).

    python -m drn_mm.score --images results/synthesized --labels data/cityscapes/gtFine/val \\
        --checkpoint drn-d-105_ms_cityscapes.pth --protocol native [--ms] \\
        --out-json score.json --out-md score.md
    # the real-image upper bound at the generated size:
    python -m drn_mm.score --images data/cityscapes/leftImg8bit/val \\
        --labels data/cityscapes/gtFine/val --checkpoint ... --real 256 512

Protocols: native, upsample-image, upsample-logits, full-res; --ms adds the reference's six-scale
test. Labels: *_labelIds.png (34 ids) or *_labelTrainIds.png / *_trainIds.png (19 + 255), detected,
or --label-type; outputs named by index: --pairs FILE.
"""
import argparse
import json
import sys

from .apis.synthesis import drn_score
from .evaluation.synthesis import PROTOCOLS, markdown_report, write_report
from .evaluation.synthesis.files import ALPHA_MODES, LABEL_KINDS, ScoreInputError
from .evaluation.synthesis.reference import LABEL_RESIZES
from .models.utils.checkpoint import CheckpointError, CheckpointMismatchError

#: the smallest image side DRN segments: one cell of its stride-8 output
MIN_SIDE = 8


def _at_least(minimum: int):

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'{value} is below {minimum}')
        return value

    return parse


def _available_memory() -> int:
    """Bytes of memory available now (/proc/meminfo's MemAvailable), or 0 where unknown."""
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_real_size(size, batch_size: int = 1, classes: int = 19) -> None:
    """An error (argparse's message) for a ``--real`` size DRN cannot score, or whose images and
    class maps do not fit in the memory available: said before any image is read."""
    height, width = size
    if min(height, width) < MIN_SIDE:
        raise argparse.ArgumentTypeError(
            f'--real {height} {width}: each side must be at least {MIN_SIDE} pixels (one cell of '
            "DRN's stride-8 output); give the generated images' size, e.g. --real 256 512")
    # per image: the RGB image, float32 input, and two float32 class maps (logits, softmax)
    need = batch_size * height * width * (3 + 3 * 4 + 2 * classes * 4)
    available = _available_memory()
    if available and need > 0.8 * available:
        raise argparse.ArgumentTypeError(
            f'--real {height} {width}: {batch_size} image(s) of that size need about '
            f'{need / 2**30:.1f} GiB for the image and its class maps, more than the '
            f'{available / 2**30:.1f} GiB available; give the generated images\' size')


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
    parser.add_argument(
        '--pairs', metavar='FILE', help='IMAGE LABEL per line (relative to --images and '
        '--labels): for outputs named by index (0.png, 1.png, ...)')
    parser.add_argument(
        '--label-resize', default='nearest', choices=LABEL_RESIZES,
        help="where the protocol resizes labels (native): nearest (PIL, the authors'; "
        'default); torch-nearest and bilinear-legacy reproduce papers that did so (flagged as '
        'legacy in the report)')
    parser.add_argument(
        '--ignore-above', type=int, metavar='K', help='--label-type index: ignore label '
        'values above K (default: a value that is no class index and not 255 is an error)')
    parser.add_argument(
        '--alpha', default='error', choices=ALPHA_MODES,
        help='generated images with a non-opaque alpha: error (default), or composite them on '
        'black / white')
    parser.add_argument('--image-resize', default='bicubic',
                        choices=['nearest', 'bilinear', 'bicubic', 'lanczos', 'box'])
    parser.add_argument('--real', nargs=2, type=_at_least(1), metavar=('H', 'W'),
                        help='real images: resize them to this (generated) size first')
    parser.add_argument('--normalization', default='auto', choices=['auto', 'reference', 'config'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'int8', 'auto'],
                        help='fp32 (default: the reference\'s), bf16, int8 (ONNX Runtime) or auto')
    parser.add_argument('--batch-size', type=_at_least(1), default=1,
                        help='images per forward pass (single scale; 1 is the reference\'s way)')
    parser.add_argument('--limit', type=_at_least(1),
                        help='score the first N pairs only (a quick look)')
    parser.add_argument('--out-json', help='write the result as JSON')
    parser.add_argument('--out-md', help='write the result as markdown')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.real is not None:
        try:
            check_real_size(args.real, args.batch_size)
        except argparse.ArgumentTypeError as e:
            parser.error(str(e))
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        result = drn_score(args.images, args.labels, args.checkpoint, config=args.config,
                           device=args.device, protocol=args.protocol, ms=args.ms,
                           label_kind=args.label_type, image_resize=args.image_resize,
                           real_size=args.real, normalization=args.normalization,
                           progress=not args.no_progress, limit=args.limit,
                           batch_size=args.batch_size, precision=args.precision,
                           pairs_file=args.pairs, label_resize=args.label_resize,
                           ignore_above=args.ignore_above, alpha=args.alpha)
    except (ScoreInputError, CheckpointError, CheckpointMismatchError) as e:
        print(f'drn_score: error: {e}', file=sys.stderr)
        return 2
    write_report(result, args.out_json, args.out_md)
    print(markdown_report(result))
    summary = {
        k: result[k]
        for k in ('mIoU', 'mIoU_2dp', 'acc_valid', 'acc_all', 'acc_per_image', 'mean_class_acc',
                  'void_fraction', 'protocol', 'multi_scale', 'num_images', 'image_formats',
                  'legacy_steps')
    }
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())

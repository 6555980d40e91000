"""Segment one image and write a coloured mask PNG (optionally blended with the image).

    python tools/inference.py CONFIG CHECKPOINT image.png --out mask.png [--opacity 0.5]
"""
import argparse
import sys

import numpy as np

from drn_mm.apis import DictAction, init_segmentor, segment_image
from drn_mm.deploy.precision import set_inference_precision
from drn_mm.visualization import overlay_segmentation, save_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--opacity', type=float, default=1.0,
                        help='mask opacity over the image, 1.0 = mask only')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--precision', default='fp32', choices=['fp32', 'bf16', 'int8', 'auto'],
        help='fp32 (default), bf16, int8 (ONNX Runtime) or auto; int8 '
        'calibrates on --calibration images (default: the image itself)')
    parser.add_argument('--calibration', nargs='+', help='images to calibrate int8 on')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    args = parser.parse_args(argv)
    if not 0.0 <= args.opacity <= 1.0:
        parser.error(f'--opacity={args.opacity} must be within [0, 1]')
    model = init_segmentor(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
    if args.precision != 'fp32':
        model, said = set_inference_precision(model, args.precision, args.calibration
                                              or [args.image])
        print('precision:', said)
    label = segment_image(model, args.image)
    save_png(args.out,
             overlay_segmentation(args.image, label, model.dataset_meta['palette'], args.opacity))
    classes = model.dataset_meta.get('classes', ())
    present = [classes[i] if i < len(classes) else str(i) for i in np.unique(label) if i != 255]
    print(f'wrote {args.out}: {label.shape[1]}x{label.shape[0]}, classes: {", ".join(present)}')


if __name__ == '__main__':
    sys.exit(main())

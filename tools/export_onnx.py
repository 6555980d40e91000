"""Export a segmentor's tensor path to ONNX (optionally BN-folded) and check it in onnxruntime.

    python tools/export_onnx.py configs/drn/drn_d_22_cityscapes.py drn_d_22.onnx \\
        --checkpoint drn_d_22_cityscapes.pth --fold-bn

Input: normalized images (N, 3, H, W), dynamic batch, height and width (unless --static);
output: the decode head's logits (see drn_mm/deploy/onnx.py). Without --checkpoint the weights are
random (for speed tests). With onnxruntime installed the tool runs the file and prints the
largest difference from PyTorch on a random input (--no-check skips that).
"""
import argparse
import json
import sys

import torch

from drn_mm.apis import DictAction, build_model, load_model_checkpoint, read_config
from drn_mm.deploy import calibrate_batchnorm, export_onnx, onnx_parity


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a segmentor to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--checkpoint', help='weights (drn_mm, or the authors\' DRN files)')
    parser.add_argument('--size', nargs=2, type=int, default=(512, 1024), metavar=('H', 'W'),
                        help='example input size the graph is traced with')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--fold-bn', action='store_true', help='fold BatchNorm into the convs')
    parser.add_argument('--static', action='store_true', help='fixed input shape')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--no-check', action='store_true', help='skip the onnxruntime check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = build_model(read_config(args.config, args.cfg_options))
    inputs = torch.randn(args.batch, 3, *args.size, generator=torch.Generator().manual_seed(0))
    if args.checkpoint:
        load_model_checkpoint(model, args.checkpoint)
    else:  # random weights: give BN realistic statistics so the check compares sane numbers
        calibrate_batchnorm(model, inputs)
    model.eval()
    export_onnx(model, args.out, size=args.size, batch=args.batch, fold_bn=args.fold_bn,
                dynamic=not args.static, opset=args.opset)
    print(f'wrote {args.out}')
    if not args.no_check:
        try:
            print(json.dumps(onnx_parity(model, args.out, inputs)))
        except ImportError:
            print('onnxruntime is not installed: no check (pip install onnxruntime)')


if __name__ == '__main__':
    sys.exit(main())

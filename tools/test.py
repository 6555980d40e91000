"""Evaluate a checkpoint: drn_mm's own, or the authors' Cityscapes files as they are.

    python tools/test.py configs/drn/drn_d_22_cityscapes.py drn_d_22_cityscapes.pth
    python tools/test.py CONFIG CHECKPOINT --tta        # the reference's multi-scale test
    python tools/test.py CONFIG CHECKPOINT --out preds/ # also write predicted label maps
    python tools/test.py CONFIG CHECKPOINT --metrics-out metrics.json
    python tools/test.py CONFIG CHECKPOINT --show-dir pictures/  # draw every prediction
    python tools/test.py CONFIG CHECKPOINT --precision auto      # bf16 / int8 on this CPU
"""
import argparse
import json
import sys

from drn_mm.apis import add_runner_arguments, load_config, test
from drn_mm.engine.distributed import finish_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a checkpoint (drn_mm)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='directory for predicted label maps (PNG)')
    parser.add_argument('--tta', action='store_true', help='multi-scale test time augmentation')
    parser.add_argument('--metrics-out', help='also write the metrics to this JSON file')
    parser.add_argument(
        '--show-dir', help='draw every prediction (image | prediction | labels) '
        'into this directory, under vis_image/')
    parser.add_argument(
        '--precision', default='fp32', choices=['fp32', 'bf16', 'int8', 'auto'],
        help='inference precision (segmentors): fp32 (default, reproduces published numbers), '
        'bf16, int8 (ONNX Runtime), auto (bf16 where the hardware has it and its labels agree '
        'with fp32)')
    return add_runner_arguments(parser).parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options,
                      launcher=args.launcher)
    metrics = test(cfg, args.checkpoint, tta=args.tta, out=args.out, show_dir=args.show_dir,
                   precision=args.precision)
    metrics = {k: float(v) if hasattr(v, '__float__') else v for k, v in metrics.items()}
    print(json.dumps(metrics))
    if args.metrics_out:
        with open(args.metrics_out, 'w') as f:
            json.dump(metrics, f, indent=1)
    finish_distributed()


if __name__ == '__main__':
    sys.exit(main())

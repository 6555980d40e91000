"""Train a drn_mm config with mmengine's Runner.

    python tools/train.py configs/drn/drn_c_42_cityscapes.py [--pretrained drn_c_42-9d336e8c.pth]
    python tools/train.py CONFIG --resume          # continue from work_dir's last checkpoint
"""
import argparse
import sys

from drn_mm.apis import add_runner_arguments, load_config, train
from drn_mm.engine.distributed import finish_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor or classifier (drn_mm)')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    parser.add_argument(
        '--pretrained', help='ImageNet checkpoint for the backbone (the authors\' '
        'DRN files and torchvision ResNets load as they are)')
    return add_runner_arguments(parser).parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options,
                      amp=args.amp, resume=args.resume, pretrained=args.pretrained,
                      launcher=args.launcher)
    train(cfg)
    finish_distributed()


if __name__ == '__main__':
    sys.exit(main())

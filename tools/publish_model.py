"""Publish a checkpoint: weights and meta only, named with the first 8 hex digits of its SHA-256
(the name drn_mm's loaders check), like mmseg's publish_model.py (broken with torch's safe loader).

    python tools/publish_model.py work_dirs/x/iter_23250.pth drn_d_22_mine.pth
    # -> drn_d_22_mine-<sha256[:8]>.pth
"""
import argparse
import sys

from drn_mm.apis import publish_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description='Publish a checkpoint (drn_mm)')
    parser.add_argument('src', help='a training checkpoint')
    parser.add_argument('dst', help='output name; "-<sha256[:8]>" is added before .pth')
    args = parser.parse_args(argv)
    print(publish_checkpoint(args.src, args.dst))


if __name__ == '__main__':
    sys.exit(main())

"""One classifier checkpoint, three tasks (drn_mm.analysis.cam_tasks): classification accuracy,
localization (paper protocol, CAM protocol, MaxBoxAccV2, PxAP) and segmentation from the class
maps with no retraining, on a CUB-layout data set with object masks (the demo shapes).

    python -m drn_mm.demo.shapes --out data/demo_shapes
    python tools/train.py configs/demo/drn_c_26_demo_shapes_localization.py \\
        --work-dir work_dirs/demo_shapes
    python tools/cam_tasks.py configs/demo/drn_c_26_demo_shapes_localization.py \\
        work_dirs/demo_shapes/epoch_24.pth --out work_dirs/demo_shapes/cam_tasks

Writes cam_tasks.json, cam_tasks.md and cam_tasks.png to --out and prints the table.
"""
import argparse
import json
import os
import os.path as osp
import sys

from drn_mm.analysis.cam_tasks import cam_tasks_markdown, plot_cam_tasks, run_cam_tasks


def main(argv=None):
    parser = argparse.ArgumentParser(description='One checkpoint, three tasks (drn_mm)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--mask-dir', default='masks',
                        help='folder of the object masks under the data root')
    parser.add_argument('--out', default='work_dirs/cam_tasks')
    args = parser.parse_args(argv)
    result = run_cam_tasks(args.config, args.checkpoint, mask_dir=args.mask_dir)
    os.makedirs(args.out, exist_ok=True)
    table = cam_tasks_markdown(result)
    with open(osp.join(args.out, 'cam_tasks.md'), 'w') as f:
        f.write(table)
    plot_cam_tasks(result, osp.join(args.out, 'cam_tasks.png'))
    with open(osp.join(args.out, 'cam_tasks.json'), 'w') as f:
        json.dump({k: v for k, v in result.items() if k != 'samples'}, f, indent=1)
    print(table)
    print(f'wrote cam_tasks.md, cam_tasks.json, cam_tasks.png to {args.out}')


if __name__ == '__main__':
    sys.exit(main())

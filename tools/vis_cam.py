"""Class activation maps of a DRN classifier: image(s) in, PNG(s) out with the map of the top
class overlaid, its box (green) and, when known, the ground-truth box (red).

    python tools/vis_cam.py configs/drn/drn-c-26_cam_8xb32_in1k-loc.py drn_c_26-ddedf421.pth \\
        demo.jpg --out-dir vis/
    python tools/vis_cam.py CONFIG CKPT val/*.JPEG --out-dir vis/ --gt-xml-dir val_boxes/ \\
        --protocol cam --threshold 0.2
"""
import argparse
import os
import os.path as osp
import sys

from drn_mm.apis import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Overlay DRN class activation maps (drn_mm)')
    parser.add_argument('config', help='classification / localization config with CAMHead')
    parser.add_argument(
        'checkpoint', help='checkpoint (drn_mm, the authors\' ImageNet file, '
        'torchvision ResNet-50 for DRN-A-50)')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out-dir', required=True, help='where the PNGs go (<image stem>.png)')
    parser.add_argument('--protocol', choices=['paper', 'cam'], default='paper',
                        help='box protocol (default: paper)')
    parser.add_argument(
        '--threshold', type=float, default=None,
        help='activation threshold t (paper: raw class-map value, default 0; '
        'cam: fraction of the maximum, default 0.2)')
    parser.add_argument('--stride', type=int, default=8, help='class map stride (8 for DRN)')
    parser.add_argument('--gt-box', type=float, nargs=4, action='append', default=[],
                        metavar=('X1', 'Y1', 'X2', 'Y2'),
                        help='ground-truth box in original pixels (repeatable; all images)')
    parser.add_argument(
        '--gt-xml-dir', help='folder of ImageNet-style XML boxes '
        '(<image stem>.xml), drawn when present')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from drn_mm.apis import init_classifier
    from drn_mm.visualization import visualize_cam
    missing = [image for image in args.images if not osp.isfile(image)]
    if missing:
        raise FileNotFoundError(f'image files not found: {missing}')
    model = init_classifier(args.config, args.checkpoint, device=args.device,
                            cfg_options=args.cfg_options)
    os.makedirs(args.out_dir, exist_ok=True)
    for image in args.images:
        gt_boxes = list(args.gt_box)
        stem = osp.splitext(osp.basename(image))[0]
        if args.gt_xml_dir:
            xml = osp.join(args.gt_xml_dir, stem + '.xml')
            if osp.isfile(xml):
                from drn_mm.datasets import parse_voc_boxes
                gt_boxes += [box for _, box in parse_voc_boxes(xml)]
        result = visualize_cam(model, image, osp.join(args.out_dir,
                                                      stem + '.png'), protocol=args.protocol,
                               threshold=args.threshold, stride=args.stride, gt_boxes=gt_boxes)
        box = ', '.join(f'{v:.1f}' for v in result['box'])
        print(f'{image}: {result["class_name"]} (class {result["label"]}, score '
              f'{result["score"]:.3f}), box ({box}) -> {result["out"]}')


if __name__ == '__main__':
    sys.exit(main())

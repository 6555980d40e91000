"""The inference paths of one segmentation config side by side on this machine: the authors'
model in fp32 eager (their DRNSeg, drn_mm.benchmark.reference_model), drn_mm fp32, bf16 and int8
(drn_mm.deploy.precision), interleaved repeat by repeat (drn_mm.benchmark.interleaved).

    python tools/benchmark_precision.py configs/drn/drn_d_22_cityscapes.py --size 512 1024 \\
        [--checkpoint FILE] [--paths authors fp32 bf16 int8] [--repeats 10] [--out-dir DIR]

Without a checkpoint the weights are random, BN statistics taken from the input. Writes
precision_benchmark.json (samples, ratios, label agreement with fp32, CPU model, ISA flags,
threads) and .md.
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch

from drn_mm.apis import build_model, load_model_checkpoint, read_config
from drn_mm.benchmark import calibrate_batchnorm
from drn_mm.benchmark.interleaved import interleaved_times, ratio_table, ratios
from drn_mm.benchmark.reference_model import AuthorsDRNSeg, authors_state_dict
from drn_mm.deploy.precision import (build_predictor, cpu_features, has_bf16_hardware,
                                     label_agreement)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Inference paths side by side (drn_mm)')
    parser.add_argument('config')
    parser.add_argument('--checkpoint')
    parser.add_argument('--size', nargs=2, type=int, default=(512, 1024), metavar=('H', 'W'))
    parser.add_argument('--paths', nargs='+', default=['authors', 'fp32', 'bf16', 'int8'])
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--iters', type=int, default=1)
    parser.add_argument('--out-dir', default='work_dirs/precision_benchmark')
    args = parser.parse_args(argv)

    model = build_model(read_config(args.config))
    g = torch.Generator().manual_seed(0)
    small = torch.randn(1, 3, args.size[0] // 16, args.size[1] // 16, generator=g)
    x = torch.nn.functional.interpolate(small, size=tuple(args.size), mode='bilinear')
    if args.checkpoint:
        load_model_checkpoint(model, args.checkpoint)
    else:
        calibrate_batchnorm(model, x)
    model.eval()
    fp32 = build_predictor(model, 'fp32')
    fns, details = {}, {}
    for path in args.paths:
        if path == 'authors':
            authors = AuthorsDRNSeg(model.backbone.arch, model.decode_head.num_classes,
                                    model.backbone.channels).eval()
            authors.load_state_dict(
                authors_state_dict(model.state_dict(), model.backbone.style), strict=True)
            fns['authors fp32 eager'] = lambda m=authors: _no_grad(m, x)
            details['authors fp32 eager'] = 'AuthorsDRNSeg (the reference DRNSeg), eager'
        else:
            predictor = build_predictor(model, path, calibration=[x])
            name = f'drn_mm {path}'
            fns[name] = lambda p=predictor: p(x)
            details[name] = predictor.detail
    samples = interleaved_times(fns, repeats=args.repeats, iters=args.iters)
    baseline = 'authors fp32 eager' if 'authors' in args.paths else list(fns)[0]
    rows = ratios(samples, baseline)
    for name in rows:
        if name.startswith('drn_mm') and name != 'drn_mm fp32':
            p = build_predictor(model, name.split()[1], calibration=[x])
            rows[name]['label_agreement_vs_fp32'] = label_agreement(p, fp32, [x])
    features = cpu_features()
    result = dict(config=args.config, checkpoint=args.checkpoint, size=list(args.size),
                  cpu=features, bf16_hardware=has_bf16_hardware('cpu'), torch=torch.__version__,
                  baseline=baseline, rows=rows, details=details, samples_ms={
                      k: [t * 1e3 for t in v]
                      for k, v in samples.items()
                  })
    isa = ', '.join(k for k, v in features.items() if v is True) or 'none of AVX2+'
    md = [
        f"# Inference paths: {osp.basename(args.config)} at {args.size[0]}x{args.size[1]}, "
        f'batch 1', '', f"{features['cpu']}; ISA: {isa}; {features['threads']} threads; "
        f'{args.repeats} interleaved repeats.', ''
    ] + ratio_table(rows, baseline)
    md += [''] + [f'- {k}: {v}' for k, v in details.items()]
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'precision_benchmark.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(osp.join(args.out_dir, 'precision_benchmark.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    print('\n'.join(md))


def _no_grad(module, x):
    with torch.no_grad():
        return module(x)


if __name__ == '__main__':
    sys.exit(main())

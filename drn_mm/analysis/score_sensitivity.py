"""How far the DRN score moves with each protocol choice (what clean-fid showed for FID): one
checkpoint, one set of "generated" images, each choice changed alone against a base.

The "generated" images are real images resized down (PIL bicubic) to a generator's output size,
saved as PNG (the base) and as JPEG at a few qualities. The base is ``native`` at that size,
labels PIL-nearest-downsampled, single scale, fp32. Each row changes one choice:

- protocol (``upsample-image``, ``upsample-logits``; ``full-res`` on the real images: the upper
  bound);
- the image resize filter where images are resized (``upsample-image``): bicubic, bilinear,
  nearest, antialiased (PIL LANCZOS, BOX);
- the label resize where labels are resized (``native``): PIL nearest, torch 'nearest',
  bilinear (the CUT-family legacy step);
- the generated images saved as JPEG at quality 75 / 90 / 95;
- the authors' multi-scale test (``--ms``);
- the generated images saved as grayscale (what a single-channel output scores);
- bf16 instead of fp32 (in hardware where the CPU has it; emulated elsewhere: slow, and the
  row says so).

``tools/score_sensitivity.py`` is the command line; docs/en/drn_score.md holds the table.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence

from PIL import Image

from ..evaluation.synthesis import score_images
from ..evaluation.synthesis.files import list_image_files

__all__ = ['make_generated', 'sensitivity_rows', 'sensitivity_markdown']


def make_generated(
    real_images: str, out: str, size: Sequence[int],
    jpeg_qualities: Sequence[int] = (75, 90, 95)) -> Dict[str, str]:
    """Write the real images resized to ``size`` (h, w) with PIL bicubic as PNG, as grayscale
    PNG and as JPEG at each quality; returns {'png': folder, 'gray': ..., 'jpeg75': ..., ...}."""
    h, w = size
    folders = {'png': osp.join(out, 'png'), 'gray': osp.join(out, 'gray')}
    folders.update({f'jpeg{q}': osp.join(out, f'jpeg{q}') for q in jpeg_qualities})
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    for path in list_image_files(real_images, 'images'):
        stem = osp.splitext(osp.basename(path))[0]
        with Image.open(path) as im:
            small = im.convert('RGB').resize((w, h), Image.BICUBIC)
        small.save(osp.join(folders['png'], stem + '.png'))
        small.convert('L').save(osp.join(folders['gray'], stem + '.png'))
        for q in jpeg_qualities:
            small.save(osp.join(folders[f'jpeg{q}'], stem + '.jpg'), quality=q)
    return folders


def sensitivity_rows(model, real_images: str, labels: str, workdir: str,
                     size: Sequence[int] = (64, 128), label_kind: str = 'auto',
                     bf16: bool = True) -> List[Dict]:
    """Score the base and each single change; rows of (choice, setting, metrics, delta)."""
    from ..hardware import cpu_bf16_hardware
    generated = make_generated(real_images, osp.join(workdir, 'generated'), size)
    base_kwargs = dict(images=generated['png'], labels=labels, protocol='native',
                       label_kind=label_kind)
    runs = [('base', 'native, PNG, labels PIL nearest, single scale, fp32', {})]
    runs += [('protocol', p, dict(protocol=p)) for p in ('upsample-image', 'upsample-logits')]
    runs += [('protocol', 'full-res (the real images: upper bound)',
              dict(images=real_images, protocol='full-res'))]
    runs += [('image resize (upsample-image)', f, dict(protocol='upsample-image', image_resize=f))
             for f in ('bicubic', 'bilinear', 'nearest', 'lanczos', 'box')]
    runs += [('label resize (native)', m, dict(label_resize=m))
             for m in ('nearest', 'torch-nearest', 'bilinear-legacy')]
    runs += [('generated images saved as', f'JPEG quality {q}', dict(images=generated[f'jpeg{q}']))
             for q in (75, 90, 95)]
    runs += [('generated images saved as', 'grayscale PNG', dict(images=generated['gray']))]
    runs += [('multi-scale', '--ms', dict(ms=True))]
    if bf16:
        where = 'in hardware' if cpu_bf16_hardware() else 'emulated: this CPU has no bf16'
        runs += [('precision', f'bf16 ({where})', dict(precision='bf16'))]
    rows, base = [], None
    for choice, setting, change in runs:
        result = score_images(model, **dict(base_kwargs, **change))
        row = dict(choice=choice, setting=setting, mIoU=result['mIoU'],
                   acc_valid=result['acc_valid'], acc_per_image=result['acc_per_image'],
                   mean_class_acc=result['mean_class_acc'], legacy=bool(result['legacy_steps']),
                   warnings=result['warnings'], num_images=result['num_images'])
        base = base or row
        row['delta_mIoU'] = row['mIoU'] - base['mIoU']
        rows.append(row)
    return rows


def sensitivity_markdown(rows: List[Dict]) -> str:
    lines = [
        '| choice | setting | mIoU | Δ mIoU | acc (pooled) | acc (per image) | mean class acc |',
        '|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        flag = ' (legacy)' if r['legacy'] else ''
        lines.append(f"| {r['choice']} | {r['setting']}{flag} | {r['mIoU']:.2f} | "
                     f"{r['delta_mIoU']:+.2f} | {r['acc_valid']:.2f} | {r['acc_per_image']:.2f} | "
                     f"{r['mean_class_acc']:.2f} |")
    return '\n'.join(lines) + '\n'

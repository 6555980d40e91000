"""Gridding of whole models, for people: images in, the scores' table and pictures out.

:func:`analyze_models` runs :func:`~drn_mm.analysis.gridding.measure_gridding` on each model (a
config and optional checkpoint) and keeps, for the pictures, every level's ERF energy map and
activations on the first image; :func:`gridding_markdown` tabulates the scores,
:func:`plot_erfs` and :func:`plot_activations` draw the maps side by side (one row a model).
``tools/analyze_gridding.py`` is the command line.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .gridding import capture_levels, erf_energy, feature_levels, measure_gridding

__all__ = [
    'DEFAULT_IMAGES', 'load_images', 'analyze_models', 'gridding_markdown', 'plot_erfs',
    'plot_activations'
]

#: the demo's val images (python -m drn_mm.demo.cityscapes)
DEFAULT_IMAGES = 'data/demo_cityscapes/leftImg8bit/val'


def load_images(paths: Sequence[str], size: Sequence[int]) -> torch.Tensor:
    """RGB images (files, or folders searched for .png / .jpg), bilinearly resized to ``size``
    (h, w): a float (N, 3, h, w) tensor of 0-255 values."""
    from PIL import Image
    files = []
    for path in paths:
        if osp.isdir(path):
            found = sorted(
                glob.glob(osp.join(path, '**', '*.png'), recursive=True) +
                glob.glob(osp.join(path, '**', '*.jpg'), recursive=True))
            if not found:
                raise FileNotFoundError(f'{path}: no .png or .jpg images in it')
            files += found
        elif osp.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f'image {path} not found')
    images = []
    for file in files:
        with Image.open(file) as image:
            rgb = image.convert('RGB').resize((size[1], size[0]), Image.BILINEAR)
        images.append(torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1).float())
    return torch.stack(images)


def _normalize(model, images: torch.Tensor) -> torch.Tensor:
    """RGB 0-255 images normalized as the model's data preprocessor does (its mean and std are
    in RGB order when it converts BGR input to RGB, as drn_mm's and mmseg's configs do)."""
    dp = model.data_preprocessor
    mean = getattr(dp, 'mean', None)
    if mean is None:
        return images
    return (images - mean.reshape(1, -1, 1, 1).cpu()) / dp.std.reshape(1, -1, 1, 1).cpu()


def analyze_models(models: Sequence[Tuple[str, str, Optional[str]]], images: torch.Tensor,
                   periods: Sequence[int] = (2, 4), source: Optional[str] = 'auto',
                   seed: int = 0) -> List[Dict[str, object]]:
    """``models``: (name, config, checkpoint or None: random initialization with ``seed``).
    Returns per model: ``name``, ``config``, ``checkpoint``, ``rows`` (the measures level by
    level), ``erf`` (level -> energy map w.r.t. the source, first image) and ``activations``
    (level -> channel mean of |activation| on the first image), as numpy arrays."""
    from ..apis import build_model, load_model_checkpoint, read_config
    out = []
    for name, config, checkpoint in models:
        model = build_model(read_config(config), seed=seed)
        if checkpoint:
            load_model_checkpoint(model, checkpoint)
        model.eval()
        x = _normalize(model, images)
        rows = measure_gridding(model, x, periods, source)
        levels = feature_levels(model)
        forward = model.extract_feat if hasattr(model, 'extract_feat') else model
        targets = [r['level'] for r in rows]
        src = None if rows[0]['source'] == 'input' else rows[0]['source']
        erf = erf_energy(forward, x[:1], levels, targets, src)
        with torch.no_grad(), capture_levels(levels) as cap:
            forward(x[:1])
        out.append(
            dict(
                name=name, config=config, checkpoint=checkpoint, rows=rows, erf={
                    k: v.numpy()
                    for k, v in erf.items()
                }, activations={
                    lv.name: cap.outputs[lv.name][0].abs().mean(0).numpy()
                    for lv in levels
                }))
    return out


def gridding_markdown(results: Sequence[Dict[str, object]]) -> str:
    """One table: a row per model and level after the source, the ERF's centre share and lattice
    scores, and the spectral scores, for each period."""
    periods = list(results[0]['rows'][0]['erf_lattice'])
    against_level = 'erf_centre_share' in results[0]['rows'][0]
    head = (['model', 'level', 'dilation'] + (['ERF centre share'] if against_level else []) +
            [f'ERF lattice d={p}' for p in periods] + [f'spectral d={p}' for p in periods])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]

    def fmt(value):
        return 'n/a (centre only)' if value is None else f'{value:.3f}'

    for result in results:
        for row in result['rows']:
            cells = [result['name'], row['level'], str(row['dilation'])]
            if against_level:
                cells.append(f"{row['erf_centre_share']:.3f}")
            cells += [fmt(row['erf_lattice'][p]) for p in periods]
            cells += [f"{row['spectral'][p]:.3f}" for p in periods]
            lines.append('| ' + ' | '.join(cells) + ' |')
    source = results[0]['rows'][0]['source']
    what = ('of the ERF without its centre cell' if against_level else 'of the whole ERF')
    return (f'ERF lattice scores against {source}, {what} (0: no holes, 1: all energy on one '
            'sub-lattice); spectral scores of the activations (share of the energy in excess at '
            "the period's frequencies). docs/en/gridding.md defines both.\n\n" + '\n'.join(lines) +
            '\n')


def _grid(results, key, title, path, crop: Optional[int] = None, log: bool = False):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    columns = max(len(r[key]) for r in results)
    fig, axes = plt.subplots(
        len(results), columns, figsize=(2.2 * columns, 2.0 * len(results) + 0.6), squeeze=False)
    for i, result in enumerate(results):
        for j in range(columns):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            items = list(result[key].items())
            if j >= len(items):
                ax.axis('off')
                continue
            level, data = items[j]
            if crop:
                h, w = data.shape
                data = data[max(h // 2 - crop, 0):h // 2 + crop + 1,
                            max(w // 2 - crop, 0):w // 2 + crop + 1]
            if log:
                data = np.log10(data + data.max() * 1e-6)
            ax.imshow(data, cmap='magma', interpolation='nearest')
            level = level.replace('backbone.', '')
            ax.set_title(f"{result['name']}\n{level}" if j == 0 else level, fontsize=7,
                         loc='left' if j == 0 else 'center')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_erfs(results, path: str, crop: int = 12) -> str:
    """ERF energy maps (log scale, ``crop`` cells around the centre), a row per model."""
    return _grid(results, 'erf', 'Effective receptive fields (log energy of the gradient of the '
                 'centre unit)', path, crop=crop, log=True)


def plot_activations(results, path: str) -> str:
    """Mean |activation| of every level on the first image, a row per model (the paper's
    figure of activation maps)."""
    return _grid(results, 'activations', 'Activations level by level (mean |activation| over '
                 'channels, first image)', path)

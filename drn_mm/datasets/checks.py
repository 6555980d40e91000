"""Checks of segmentation data that fail at build time, naming the directory or the file.

Without them, an empty split fails inside mmengine with ``need at least one array to
concatenate`` (or, unserialized, makes ``InfiniteSampler`` spin forever without a batch), and a
missing label file is an error only when its sample is drawn, maybe an hour into training.
:class:`drn_mm.engine.DRNCheckpointHook` runs :func:`check_seg_dataset` on the data sets of every
run (any Runner) before the first batch; :func:`check_seg_dataset_config` explains a data set
config whose build fails.
Bad files (corrupt images, label maps of the wrong size or with values outside the classes) are
caught when read, by the loading transforms of :mod:`drn_mm.datasets.loading`.
"""
import os
import os.path as osp
from typing import List, Optional

__all__ = [
    'DataError', 'check_seg_dataset', 'check_seg_dataset_config', 'unusable_images',
    'truncated_file'
]


class DataError(ValueError):
    """A sample or a split that cannot be used: the message names the file or directory."""


def _inner_datasets(dataset):
    """The data sets inside mmengine's wrappers (ConcatDataset, RepeatDataset, ...)."""
    if hasattr(dataset, 'datasets'):
        for inner in dataset.datasets:
            yield from _inner_datasets(inner)
    elif hasattr(dataset, 'dataset'):
        yield from _inner_datasets(dataset.dataset)
    else:
        yield dataset


def unusable_images(img_dir: str, suffix: str) -> List[str]:
    """Entries of ``img_dir`` (recursively) named like images (``*suffix``) that are no readable
    file: broken links and directories. mmseg's listing skips them without a word."""
    if not img_dir or '://' in img_dir or not osp.isdir(img_dir):
        return []
    bad = []
    for root, dirs, files in os.walk(img_dir, followlinks=True):
        for name in sorted(dirs + files):
            path = osp.join(root, name)
            if name.endswith(suffix) and not osp.isfile(path):
                bad.append(f'{path} ({"a broken link" if osp.islink(path) else "a directory"})')
    return bad


def truncated_file(path: str) -> Optional[str]:
    """Why a local PNG or JPEG file is visibly cut short, from its first and last bytes only
    (cheap enough for every file of a split at build time), or None. Damage inside a file is
    found when it is decoded (:mod:`drn_mm.datasets.loading`)."""
    if '://' in path or not osp.isfile(path):
        return None
    size = osp.getsize(path)
    if size == 0:
        return 'empty'
    with open(path, 'rb') as f:
        head = f.read(8)
        f.seek(max(0, size - 1024))
        tail = f.read()
    if head == b'\x89PNG\r\n\x1a\n' and b'IEND' not in tail:
        return 'PNG without its IEND chunk: truncated'
    if head[:2] == b'\xff\xd8' and b'\xff\xd9' not in tail:
        return 'JPEG without its end-of-image marker: truncated'
    return None


def check_seg_dataset(dataset, max_listed: int = 5) -> None:
    """Raise :class:`DataError` if an mmseg data set has no samples or lists label files that
    do not exist. Other data sets, and lazily initialized ones, pass unchecked.

    Args:
        dataset: a built data set (mmengine wrappers are looked into).
        max_listed: how many missing files the message names.
    """
    try:
        from mmseg.datasets import BaseSegDataset
    except ImportError:  # mmpretrain only
        return
    for ds in _inner_datasets(dataset):
        if not isinstance(ds, BaseSegDataset):
            continue
        if getattr(ds, '_fully_initialized', False):
            infos = [ds.get_data_info(i) for i in range(len(ds))]
        else:  # lazy_init: list the files without initializing
            infos = ds.load_data_list()
        prefix = ds.data_prefix or {}
        img_dir = prefix.get('img_path') or ds.data_root
        if not infos:
            split = f', split file {ds.ann_file}' if ds.ann_file else ''
            raise DataError(
                f'{type(ds).__name__}: no samples in {img_dir}{split} (images matching '
                f'*{ds.img_suffix}); check data_root / data_prefix / ann_file of the data set')
        unusable = unusable_images(img_dir, ds.img_suffix) if not ds.ann_file else [
            f'{info["img_path"]} (listed in {ds.ann_file}, not a file)' for info in infos
            if '://' not in info['img_path'] and not osp.isfile(info['img_path'])
        ]
        if unusable:
            raise DataError(
                f'{type(ds).__name__}: {len(unusable)} image(s) cannot be read and '
                f'would silently leave the data set: {", ".join(unusable[:max_listed])}')
        labels = (info.get('seg_map_path') for info in infos)
        missing = [path for path in labels if path and '://' not in path and not osp.isfile(path)]
        if missing:
            raise DataError(
                f'{type(ds).__name__}: {len(missing)} of {len(infos)} label files are missing in '
                f'{prefix.get("seg_map_path")} (suffix {ds.seg_map_suffix}), e.g. '
                f'{", ".join(missing[:max_listed])}')
        files = [p for info in infos for p in (info['img_path'], info.get('seg_map_path')) if p]
        cut = [f'{p} ({why})' for p in files if (why := truncated_file(p))]
        if cut:  # found now, not at the first validation hours in
            raise DataError(f'{type(ds).__name__}: {len(cut)} file(s) are cut short: '
                            f'{", ".join(cut[:max_listed])}; replace them or remove them from '
                            'the split')


def check_seg_dataset_config(dataset_cfg) -> None:
    """:func:`check_seg_dataset` on a data set config, built with ``lazy_init=True`` (the files
    are listed, nothing is loaded). Configs of other data sets pass unchecked."""
    from mmengine.registry import DATASETS
    try:
        from mmseg.datasets import BaseSegDataset
    except ImportError:
        return
    if not isinstance(dataset_cfg, dict):
        return
    dataset_type = dataset_cfg.get('type')
    with DATASETS.switch_scope_and_registry(None) as registry:  # the default scope's (mmseg)
        cls = registry.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
        if isinstance(cls, type) and issubclass(cls, BaseSegDataset):
            check_seg_dataset(registry.build(dict(dataset_cfg, lazy_init=True)))

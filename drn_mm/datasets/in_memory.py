"""Random training samples held in memory, for measuring the training loop without data I/O."""
from typing import Sequence

from torch.utils.data import Dataset

from ..registry import REGISTRY_MODULES, register
from .synthetic import train_batch

__all__ = ['InMemoryDataset']


class InMemoryDataset(Dataset):
    """``num_distinct`` random training samples, already packed as the task's packing transform
    packs them, repeated to ``length``. ``task='seg'``: uint8 image tensor (3, H, W) and a
    ``SegDataSample`` with ``gt_sem_seg`` (about 5% of the pixels 255 = ignore), as mmseg's
    ``PackSegInputs``; ``task='cls'``: the image and a ``DataSample`` with a ``gt_label``, as
    mmpretrain's ``PackInputs``.

    ``tools/benchmark.py``'s ``train_py`` loop trains through the Runner on
    :class:`InMemorySegDataset` (mmseg's registry) or :class:`InMemoryClsDataset` (mmpretrain's);
    in a config::

        train_dataloader = dict(batch_size=8, num_workers=4,
                                sampler=dict(type='InfiniteSampler', shuffle=True),
                                dataset=dict(type='InMemorySegDataset', size=(512, 1024),
                                             num_classes=19))
    """
    task = 'seg'

    def __init__(self, size: Sequence[int], num_classes: int, num_distinct: int = 4,
                 length: int = 10**6, seed: int = 0):
        name = type(self).__name__
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f'{name}: size must be (height, width), got {size}')
        if num_classes < 1 or num_distinct < 1 or length < 1:
            raise ValueError(f'{name}: num_classes={num_classes}, num_distinct={num_distinct} '
                             f'and length={length} must be >= 1')
        batch = train_batch(num_distinct, size, num_classes, 'cpu', seed, task=self.task)
        self.inputs, self.data_samples = batch['inputs'], batch['data_samples']
        self.length = length
        self.metainfo = dict(classes=tuple(f'class{i}' for i in range(num_classes)))

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        j = index % len(self.inputs)
        return dict(inputs=self.inputs[j], data_samples=self.data_samples[j])


class InMemorySegDataset(InMemoryDataset):
    task = 'seg'


class InMemoryClsDataset(InMemoryDataset):
    task = 'cls'


if 'mmseg' in REGISTRY_MODULES:
    register('DATASETS', ('mmseg', ))(InMemorySegDataset)
    __all__.append('InMemorySegDataset')
if 'mmpretrain' in REGISTRY_MODULES:
    register('DATASETS', ('mmpretrain', ))(InMemoryClsDataset)
    __all__.append('InMemoryClsDataset')

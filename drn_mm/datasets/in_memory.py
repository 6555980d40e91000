"""Random training samples held in memory, for measuring the training loop without data I/O."""
from typing import Sequence

from torch.utils.data import Dataset

from ..registry import register

__all__ = ['InMemorySegDataset']


@register('DATASETS', ('mmseg', ))
class InMemorySegDataset(Dataset):
    """``num_distinct`` random segmentation training samples, already packed as mmseg's
    ``PackSegInputs`` packs them (uint8 image tensor (3, H, W) and a ``SegDataSample`` with
    ``gt_sem_seg``; about 5% of the label pixels are 255 = ignore), repeated to ``length``.

    ``tools/benchmark.py``'s ``train_py`` loop trains through the Runner on it; in a config::

        train_dataloader = dict(batch_size=8, num_workers=4,
                                sampler=dict(type='InfiniteSampler', shuffle=True),
                                dataset=dict(type='InMemorySegDataset', size=(512, 1024),
                                             num_classes=19))
    """

    def __init__(self, size: Sequence[int], num_classes: int, num_distinct: int = 4,
                 length: int = 10**6, seed: int = 0):
        from ..benchmark.models import train_batch
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f'InMemorySegDataset: size must be (height, width), got {size}')
        if num_classes < 1 or num_distinct < 1 or length < 1:
            raise ValueError(f'InMemorySegDataset: num_classes={num_classes}, '
                             f'num_distinct={num_distinct} and length={length} must be >= 1')
        batch = train_batch(num_distinct, size, num_classes, 'cpu', seed)
        self.inputs, self.data_samples = batch['inputs'], batch['data_samples']
        self.length = length
        self.metainfo = dict(classes=tuple(f'class{i}' for i in range(num_classes)))

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        j = index % len(self.inputs)
        return dict(inputs=self.inputs[j], data_samples=self.data_samples[j])

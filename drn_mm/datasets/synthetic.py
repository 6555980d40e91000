"""Synthetic batches: random images and data samples as the packing transforms make them."""
from typing import List, Optional, Sequence

import torch

__all__ = ['synthetic_images', 'make_data_samples', 'train_batch']


def synthetic_images(batch: int, size: Sequence[int], device, seed: int = 0) -> List[torch.Tensor]:
    """``batch`` random uint8 images (3, H, W) on ``device``, as a dataloader would give them."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch, 3, *size), generator=gen, dtype=torch.uint8)
    return list(images.to(device).unbind(0))


def make_data_samples(task: str, batch: int, size: Sequence[int],
                      labels: Optional[torch.Tensor] = None) -> list:
    """Data samples as the task's ``PackSegInputs`` / ``PackInputs`` make them; ``labels``:
    (N, H, W) label maps (seg) or (N, ) class indices (cls)."""
    from mmengine.structures import PixelData
    shape = tuple(int(s) for s in size)
    if task == 'seg':
        from mmseg.structures import SegDataSample as Sample
    else:
        from mmpretrain.structures import DataSample as Sample
    samples = []
    for i in range(batch):
        meta = dict(img_shape=shape, ori_shape=shape)
        if task == 'seg':
            meta['pad_shape'] = shape
        sample = Sample(metainfo=meta)
        if labels is not None and task == 'seg':
            sample.gt_sem_seg = PixelData(data=labels[i:i + 1])
        elif labels is not None:
            sample.set_gt_label(int(labels[i]))
        samples.append(sample)
    return samples


def train_batch(batch: int, size: Sequence[int], num_classes: int, device, seed: int = 0,
                ignore_fraction: float = 0.05, task: str = 'seg') -> dict:
    """A dataloader-style training batch on ``device``: ``inputs`` (list of uint8 (3, H, W)) and
    ``data_samples``, the input of ``model.train_step``. Segmentation: ``SegDataSample`` with
    ``gt_sem_seg`` (random labels, ``ignore_fraction`` of them 255 = ignore); classification:
    ``DataSample`` with a random ``gt_label``."""
    gen = torch.Generator().manual_seed(seed + 1)
    if task == 'seg':
        labels = torch.randint(0, num_classes, (batch, *size), generator=gen)
        labels[torch.rand(batch, *size, generator=gen) < ignore_fraction] = 255
    else:
        labels = torch.randint(0, num_classes, (batch, ), generator=gen)
    return dict(
        inputs=synthetic_images(batch, size, device, seed),
        data_samples=make_data_samples(task, batch, size, labels.to(device)))

"""One classifier checkpoint, three tasks: a DRN trained with image labels only, evaluated for
(a) classification, (b) localization (the paper's protocol, the CAM protocol, MaxBoxAccV2 and
PxAP of Choe et al. 2020) and (c) segmentation with no retraining: every pixel takes the class
of the highest class map there, and is background where that map is low.

(c) in detail: the class maps (C, h, w) are upsampled to the image (bilinear, the metric's own
upsampling), each image's maps divided by their largest value (so the threshold means a fraction
of the image's strongest evidence), and a pixel whose highest map is below ``tau`` is
background. ``tau`` is chosen on the *train* split (the best mIoU over 0.05, 0.10, ..., 0.95) and
then applied to the test split, so the test masks choose nothing. mIoU is over background and the
classes, against the object masks (:mod:`drn_mm.demo.shapes` writes them).

``tools/cam_tasks.py`` is the command line; docs/en/experiments.md shows its table and picture.
"""
import copy
from typing import Dict, List, Sequence

import numpy as np
import torch

__all__ = [
    'TAUS', 'collect_predictions', 'segment_from_cams', 'segmentation_miou', 'run_cam_tasks',
    'cam_tasks_markdown', 'plot_cam_tasks'
]

#: the background thresholds tried on the train split
TAUS = tuple(round(0.05 * k, 2) for k in range(1, 20))


def _dataloader(cfg, split: str, mask_dir: str):
    """The config's test dataloader on ``split``, with the objects' masks and no shuffling."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    loader = copy.deepcopy(cfg.test_dataloader)
    loader['dataset']['split'] = split
    loader['dataset']['mask_dir'] = mask_dir
    loader['dataset']['pipeline'] = copy.deepcopy(cfg.test_dataloader['dataset']['pipeline'])
    loader['num_workers'] = 0
    loader['persistent_workers'] = False
    loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return Runner.build_dataloader(loader)


def collect_predictions(model, dataloader) -> List[dict]:
    """Every data sample of ``dataloader`` with the model's ``pred_cam`` and ``pred_score`` (as
    dicts, what metrics read)."""
    samples = []
    with torch.no_grad():
        for data in dataloader:
            for sample in model.test_step(data):
                if 'pred_cam' not in sample:
                    raise KeyError('the model gives no pred_cam: build its head with '
                                   'with_cam=True (CAMHead(with_cam=True))')
                samples.append(sample.to_dict())
    return samples


def _image_cams(sample: dict, stride: int) -> torch.Tensor:
    """(C, H, W) class maps at the original image's pixels
    (:func:`~drn_mm.evaluation.localization.cams_to_original`), divided by their largest value."""
    from ..evaluation.localization import cams_to_original
    up = cams_to_original(sample['pred_cam'], sample, stride)
    top = up.max()
    return up / top if top > 0 else torch.zeros_like(up)


def segment_from_cams(sample: dict, tau: float, stride: int = 8) -> np.ndarray:
    """(H, W) labels: 0 background, ``c + 1`` for class ``c``: the argmax of the class maps,
    background where the highest map is below ``tau`` (a fraction of the image's maximum)."""
    cams = _image_cams(sample, stride)
    value, label = cams.max(0)
    out = label + 1
    out[value < tau] = 0
    return out.numpy()


def _truth(sample: dict) -> np.ndarray:
    from ..evaluation.localization_metric import LocalizationMetric
    mask = LocalizationMetric.object_mask(sample)
    label = int(np.asarray(sample['gt_label']).reshape(-1)[0])
    return np.where(mask, label + 1, 0)


def segmentation_miou(predictions: Sequence[np.ndarray], truths: Sequence[np.ndarray],
                      num_labels: int) -> Dict[str, object]:
    """mIoU (%) and per-label IoU (%) from a confusion matrix over ``num_labels`` labels; a label
    absent from both predictions and truths has no IoU (None) and is left out of the mean."""
    hist = np.zeros((num_labels, num_labels), np.int64)
    for pred, truth in zip(predictions, truths):
        hist += np.bincount(num_labels * truth.reshape(-1) + pred.reshape(-1),
                            minlength=num_labels**2).reshape(num_labels, num_labels)
    union = hist.sum(0) + hist.sum(1) - np.diag(hist)
    iou = [None if u == 0 else float(np.diag(hist)[i] / u * 100) for i, u in enumerate(union)]
    valid = [v for v in iou if v is not None]
    return dict(
        mIoU=float(np.mean(valid)) if valid else None, per_label_iou=iou,
        pixel_acc=float(np.diag(hist).sum() / max(hist.sum(), 1) * 100))


def _localization(samples: List[dict], stride: int, **kwargs) -> Dict[str, float]:
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import METRICS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(dict(type='LocalizationMetric', stride=stride, topk=(1, ), **kwargs))
    metric.process(None, samples)
    return {k.split('/', 1)[-1]: v for k, v in metric.evaluate(len(samples)).items()}


def run_cam_tasks(config: str, checkpoint: str, mask_dir: str = 'masks', stride: int = 8,
                  cam_threshold: float = 0.2, taus: Sequence[float] = TAUS) -> Dict[str, object]:
    """The three tasks of one classifier checkpoint on the config's CUB-layout data (train split
    to choose the background threshold, test split to score). Returns ``classification``
    (top-1 accuracy %), ``localization`` (paper protocol with MaxBoxAccV2 and PxAP; CAM protocol
    at ``cam_threshold``), ``segmentation`` (tau, mIoU, per-label IoU, pixel accuracy, and the
    train-split mIoU of every tau) and ``samples`` (the test predictions, for pictures)."""
    from ..apis import init_classifier, read_config
    cfg = read_config(config)
    model = init_classifier(config, checkpoint)
    model.eval()
    classes = list(model.dataset_meta.get('classes', []))
    train = collect_predictions(model, _dataloader(cfg, 'train', mask_dir))
    test = collect_predictions(model, _dataloader(cfg, 'test', mask_dir))
    num_labels = len(classes) + 1
    train_truth = [_truth(s) for s in train]
    by_tau = {
        tau:
        segmentation_miou([segment_from_cams(s, tau, stride)
                           for s in train], train_truth, num_labels)['mIoU']
        for tau in taus
    }
    tau = max(by_tau, key=lambda t: by_tau[t])
    segmentation = segmentation_miou([segment_from_cams(s, tau, stride) for s in test],
                                     [_truth(s) for s in test], num_labels)
    paper = _localization(test, stride, protocol='paper', max_box_acc=True, pxap=True)
    cam = _localization(test, stride, protocol='cam', threshold=cam_threshold)
    return dict(config=config, checkpoint=checkpoint, num_train=len(train), num_test=len(test),
                labels=['background'] + classes,
                classification=dict(top1_acc=100 - paper['top1_cls_err']),
                localization=dict(paper=paper,
                                  cam=cam), segmentation=dict(tau=tau, train_miou_by_tau=by_tau,
                                                              **segmentation), samples=test)


def cam_tasks_markdown(result: Dict[str, object]) -> str:
    """The three tasks' numbers as one markdown table."""
    paper, cam = result['localization']['paper'], result['localization']['cam']
    seg = result['segmentation']
    rows = [
        ('(a) classification', 'top-1 accuracy', result['classification']['top1_acc']),
        ('(b) localization, paper protocol', 'GT-known localization accuracy (IoU >= 0.5)',
         100 - paper['gt_known_loc_err']),
        ('(b) localization, paper protocol', 'top-1 localization accuracy',
         100 - paper['top1_loc_err']),
        ('(b) localization, CAM protocol (t = 0.2, largest component)',
         'GT-known localization accuracy', 100 - cam['gt_known_loc_err']),
        ('(b) localization, Choe et al. 2020', 'MaxBoxAccV2 (IoU 30/50/70)', paper['MaxBoxAccV2']),
        ('(b) localization, Choe et al. 2020', f"PxAP (PIoU {paper['PIoU']:.1f} at tau "
         f"{paper['PIoU_tau']:.2f})", paper['PxAP']),
        ('(c) segmentation, no retraining', f"mIoU, background + {len(result['labels']) - 1} "
         f"classes (tau {seg['tau']:.2f} chosen on train)", seg['mIoU']),
    ]
    lines = ['| task | metric | % |', '|---|---|---|']
    lines += [f'| {task} | {metric} | {value:.1f} |' for task, metric, value in rows]
    per_label = ', '.join(f'{name} {"n/a" if v is None else f"{v:.1f}"}'
                          for name, v in zip(result['labels'], seg['per_label_iou']))
    lines.append('')
    lines.append(f"{result['num_test']} test images ({result['num_train']} train images chose "
                 f'tau). Segmentation IoU per label: {per_label}.')
    return '\n'.join(lines) + '\n'


def plot_cam_tasks(result: Dict[str, object], path: str, num: int = 5, stride: int = 8) -> str:
    """A picture: for ``num`` test images (the first of each class, in turn), the image, its
    mask, the GT class's map and the segmentation from the maps."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image
    by_class = {}
    for sample in result['samples']:
        by_class.setdefault(int(np.asarray(sample['gt_label']).reshape(-1)[0]), []).append(sample)
    samples = []
    while len(samples) < num and any(by_class.values()):
        for label in sorted(by_class):
            if by_class[label] and len(samples) < num:
                samples.append(by_class[label].pop(0))
    tau = result['segmentation']['tau']
    fig, axes = plt.subplots(len(samples), 4, figsize=(8, 2.1 * len(samples)), squeeze=False)
    for row, sample in zip(axes, samples):
        label = int(np.asarray(sample['gt_label']).reshape(-1)[0])
        with Image.open(sample['img_path']) as image:
            rgb = np.asarray(image.convert('RGB'))
        panels = [(rgb, 'image', None), (_truth(sample), 'mask (truth)', 'tab10'),
                  (_image_cams(sample, stride)[label].numpy(), 'class map (GT class)', 'magma'),
                  (segment_from_cams(sample, tau,
                                     stride), f'segmentation (tau {tau:.2f})', 'tab10')]
        for ax, (data, title, cmap) in zip(row, panels):
            if cmap == 'tab10':
                ax.imshow(data, cmap=cmap, vmin=0, vmax=9, interpolation='nearest')
            else:
                ax.imshow(data, cmap=cmap)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

"""The DRN score of generated images: segment them with a DRN (the authors' Cityscapes files or any
drn_mm segmentation checkpoint) and score the predictions against the label maps they were
generated from, under a named protocol, so that a number can always be traced to how it was made.
See docs/en/drn_score.md for the protocols, the papers that used them and why their numbers differ.
"""
import json
import logging
import os
import os.path as osp
import time
from collections import Counter
from typing import Dict, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log

from ...models.utils.checkpoint import sha256_of
from .files import (LABEL_KINDS, ScoreInputError, detect_label_kind, pair_files,
                    read_generated_image, read_label, to_class_indices)
from .reference import (CITYSCAPES_MEAN, CITYSCAPES_STD, LABEL_RESIZES, fast_hist,
                        log_probabilities, normalize, per_class_iou, resize_image, resize_label,
                        resize_log_probabilities, segment)

__all__ = ['Protocol', 'PROTOCOLS', 'score_images', 'write_report', 'markdown_report']


class Protocol(NamedTuple):
    segment_at: str  # 'image': the (generated) image's size; 'label': the labels' size
    logits_to_label: bool  # resize log-probabilities to the labels' size before argmax
    labels_to_image: bool  # nearest-downsample the labels to the image's size
    needs_label_size: bool  # images must already be at the labels' size (real images)
    papers: str


PROTOCOLS: Dict[str, Protocol] = {
    'native':
    Protocol('image', False, True, False,
             'OASIS, CLADE (256x512, labels nearest-downsampled, single scale)'),
    'upsample-image':
    Protocol('label', False, False, False,
             'SPADE-style re-scoring at 1024x2048 (SPADE#100, OASIS#18)'),
    'upsample-logits':
    Protocol(
        'image', True, False, False,
        'GAN Compression metric/cityscapes_mIoU.py (log-softmax resized '
        'with PIL bilinear to 1024x2048)'),
    'full-res':
    Protocol('label', False, False, True,
             'real images at 1024x2048: the published 68.0 / 71.4 / 75.6 (D-22 / '
             'D-38 / D-105)'),
}

#: which pixel accuracy each scorer the field uses prints (the report says it beside the numbers)
METRICS_PRINTED_BY = {
    'acc_valid': "pooled over every pixel, 255 excluded: the authors' segment.py test, OASIS, "
    'GAN Compression',
    'acc_all': 'pooled, 255 counted as wrong: SPADE, CC-FPSE',
    'acc_per_image': "each image's accuracy (255 excluded), averaged over images: VASIS "
    "(evaluation/drn-master); the authors' validate() averages per batch, the same at batch 1",
    'mIoU_2dp': 'mIoU rounded to 2 decimals: GAN Compression prints it so',
}

#: legacy label resizes: what each reproduces
_LEGACY_LABEL_RESIZE = {
    'torch-nearest':
    "labels resized with torch's F.interpolate(mode='nearest'), whose sampling grid differs "
    "from PIL NEAREST (the authors')",
    'bilinear-legacy':
    "labels resized bilinearly (torchvision's default Resize, as CUT-family papers did, "
    'NEGCUT#3): ids are blended at every edge',
}


def _legacy_steps(label_resize: str) -> list:
    step = _LEGACY_LABEL_RESIZE.get(label_resize)
    return [
        f'{step}. A legacy step for reproducing a paper: not the protocol to use for new '
        'numbers'
    ] if step else []


def _label_resize_warnings(spec, image_size, label_size) -> list:
    """What a protocol that resizes labels to the images did to them, when that is more than
    the usual downsampling of full-size labels: labels upsampled (images larger than their labels)
    or stretched (another aspect ratio)."""
    if not (spec.labels_to_image and image_size
            and label_size) or tuple(image_size) == tuple(label_size):
        return []
    (ih, iw), (lh, lw) = image_size, label_size
    found = []
    if ih > lh or iw > lw:
        found.append(f'the images ({iw}x{ih}) are larger than their labels ({lw}x{lh}): the '
                     'labels were upsampled to them (nearest), not the images scored at the '
                     "labels' size")
    if abs(iw / ih - lw / lh) > 0.01 * (lw / lh):
        found.append(f'the images ({iw}x{ih}) and labels ({lw}x{lh}) have another aspect ratio: '
                     'the labels were stretched to the images; are they the pairs meant?')
    return found


def _input_warnings(kinds: Counter) -> list:
    """A sentence for each kind of input that changes the number without an error."""
    found = []
    total = sum(kinds.values())
    jpeg = sum(n for k, n in kinds.items() if k.startswith(('JPEG', 'MPO')))
    gray = sum(n for k, n in kinds.items() if k.split(' ')[1] in ('L', 'LA', 'I', 'I;16', '1'))
    alpha = sum(n for k, n in kinds.items() if 'composited' in k)
    rgba = sum(n for k, n in kinds.items() if k.split(' ')[1] == 'RGBA' and 'composited' not in k)
    if jpeg:
        found.append(f'{jpeg} of {total} images are JPEG: lossy compression changes the score '
                     '(save generated images as PNG)')
    if gray:
        found.append(f'{gray} of {total} images are grayscale: expanded to RGB, they score far '
                     'below colour images')
    if alpha:
        found.append(f'{alpha} of {total} images had a non-opaque alpha, composited as asked')
    if rgba:
        found.append(f'{rgba} of {total} images are RGBA with an opaque alpha: read as RGB')
    for sentence in found:
        print_log(f'DRN score: {sentence}', logger='current', level=logging.WARNING)
    return found


def _model_classes(model) -> int:
    head = getattr(model, 'decode_head', None)
    if head is None or not hasattr(head, 'num_classes'):
        raise ScoreInputError(f'{type(model).__name__} is not an mmseg segmentor with a decode '
                              'head: the DRN score needs a segmentation checkpoint')
    return int(head.num_classes)


def _normalization(model, cityscapes: bool, normalization: str):
    if normalization == 'reference' or (normalization == 'auto' and cityscapes):
        return CITYSCAPES_MEAN, CITYSCAPES_STD, 'reference (fyu/drn info.json)'
    pre = model.data_preprocessor
    if not getattr(pre, 'channel_conversion', False):
        raise ScoreInputError('the config\'s data preprocessor takes BGR (bgr_to_rgb=False); the '
                              'score feeds RGB: use --normalization reference or an RGB config')
    mean = [float(v) / 255 for v in pre.mean.flatten()]
    std = [float(v) / 255 for v in pre.std.flatten()]
    return mean, std, 'config data_preprocessor'


def _progress(iterable, total, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
        return tqdm(iterable, total=total, unit='img')
    except ImportError:
        from mmengine.utils import track_iter_progress
        return track_iter_progress((list(iterable), total))


def score_images(model, images: str, labels: str, protocol: str = 'native', ms: bool = False,
                 label_kind: str = 'auto', image_resize: str = 'bicubic',
                 real_size: Optional[Sequence[int]] = None, normalization: str = 'auto',
                 class_names: Optional[Sequence[str]] = None, checkpoint: Optional[str] = None,
                 checkpoint_sha256: Optional[str] = None, progress: bool = False,
                 limit: Optional[int] = None, batch_size: int = 1, precision: str = 'fp32',
                 calibration_images: int = 8, pairs_file: Optional[str] = None,
                 label_resize: str = 'nearest', ignore_above: Optional[int] = None,
                 alpha: str = 'error') -> Dict:
    """Score generated (or, with ``real_size``, real) images against their label maps.

    Args:
        model: an mmseg segmentor in eval mode (:func:`drn_mm.apis.init_segmentor`).
        images, labels: folders, searched recursively; paired by file name (Cityscapes' and the
            field's endings: ``_leftImg8bit``, ``_gtFine_labelIds``, ``_gtFine_trainIds``, ...)
            or by ``pairs_file``.
        protocol: a key of :data:`PROTOCOLS`.
        ms: the reference's multi-scale test (six scales, PIL resizing, summed log-probabilities).
        label_kind: one of :data:`~.files.LABEL_KINDS`: Cityscapes ``labelIds`` (34 ids, mapped
            to train ids), ``trainIds`` (19 + 255), ``index`` (any data set's class indices), or
            ``auto`` (from the file names, else the values).
        image_resize: PIL filter for resizing images (``upsample-image``, ``--real``).
        real_size: (h, w): first resize every image to this size with ``image_resize`` (real images
            brought to a generator's output size: the upper bound of a protocol).
        normalization: 'reference' (the authors' Cityscapes statistics, image / 255), 'config'
            (the config's data preprocessor) or 'auto' (reference for Cityscapes labels).
        checkpoint: the weights' file, named with its SHA-256 in the result.
        checkpoint_sha256: that SHA-256, where the caller read the file already.
        batch_size: images per forward pass (single scale; 1 is the reference's way, larger is
            faster and equal up to float rounding). Multi-scale runs image by image.
        pairs_file: ``IMAGE LABEL`` per line, relative to the two folders, for outputs named by
            index (:func:`~.files.read_pairs_file`).
        label_resize: where the protocol resizes labels (``native``): 'nearest' (PIL, the
            authors'; default) or a legacy step of :data:`~.reference.LABEL_RESIZES`, flagged in
            the result as not the protocol to use for new numbers.
        ignore_above: ``index`` labels: values above it are ignored (default: any value that is
            not a class index or 255 is an error).
        alpha: a generated image with a non-opaque alpha: 'error' (default), or composite it on
            'black' / 'white'.
        precision: 'fp32' (the reference's; default), 'bf16', 'int8' or 'auto'
            (:mod:`drn_mm.deploy.precision`); int8 calibrates and 'auto' checks label agreement
            on the first ``calibration_images`` images (as segmented). Recorded in the result.

    Returns:
        dict: ``mIoU`` (and ``mIoU_2dp``, rounded as GAN Compression prints it),
        ``per_class_iou``, ``acc_valid`` (pooled over all pixels, 255 excluded), ``acc_all``
        (pooled, 255 counted as wrong), ``acc_per_image`` (each image's accuracy, 255 excluded,
        averaged over images, as VASIS prints), ``mean_class_acc``, ``void_fraction``, the
        confusion matrix, and how the number was made (protocol, scales, sizes, label kind and
        resize, the images' formats and modes, warnings, legacy steps, checkpoint).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol={protocol!r}; valid: {sorted(PROTOCOLS)}')
    if label_kind not in LABEL_KINDS:
        raise ValueError(f'label_kind={label_kind!r}; valid: {LABEL_KINDS}')
    spec = PROTOCOLS[protocol]
    if label_resize not in LABEL_RESIZES:
        raise ValueError(f'label_resize={label_resize!r}; valid: {LABEL_RESIZES}')
    if label_resize != 'nearest' and not spec.labels_to_image:
        raise ScoreInputError(
            f'--label-resize {label_resize}: the {protocol} protocol does not resize labels '
            '(it scores at their size); label resizing is a step of native')
    num_classes = _model_classes(model)
    pairs = pair_files(images, labels, label_kind, pairs_file=pairs_file)
    if limit:
        pairs = pairs[:limit]
    if label_kind == 'auto':
        label_kind = detect_label_kind(pairs)
    cityscapes = label_kind in ('labelIds', 'trainIds')
    if cityscapes and num_classes != 19:
        raise ScoreInputError(
            f'the model predicts {num_classes} classes; Cityscapes {label_kind} need a 19-class '
            'Cityscapes model (the authors\' drn_d_22/drn_d_38/drn-d-105_ms_cityscapes.pth or a '
            'drn_mm Cityscapes checkpoint); for another data set pass --label-type index')
    mean, std, norm_name = _normalization(model, cityscapes, normalization)

    kinds = Counter()

    def read_pair(image_path, label_path):
        """The image (at ``real_size`` if given) and its labels as class indices."""
        image, kind = read_generated_image(image_path, alpha)
        kinds[kind] += 1
        if real_size is not None:
            image = resize_image(image, tuple(real_size), image_resize)
        raw = read_label(label_path)
        if label_resize == 'bilinear-legacy':  # the ids themselves interpolated, then mapped
            raw = resize_label(raw, image.shape[:2], label_resize)
            if label_kind == 'trainIds':
                return image, np.where(raw < 19, raw, 255).astype(np.uint8)
            if label_kind == 'index':
                return image, np.where(raw < num_classes, raw, 255).astype(np.uint8)
        return image, to_class_indices(raw, label_kind, label_path, num_classes, ignore_above)

    def as_segmented(image, label):
        """The image at the size the protocol segments it."""
        return resize_image(image, label.shape,
                            image_resize) if spec.segment_at == 'label' else image

    forward, precision_detail = None, 'fp32 eager (the reference\'s)'
    if precision != 'fp32':
        from ...deploy.precision import build_predictor
        calibration = [
            normalize(as_segmented(*read_pair(*pair)), mean, std)
            for pair in pairs[:calibration_images]
        ]
        kinds.clear()  # counted once, when scored
        forward = build_predictor(model, precision, calibration)
        precision_detail = f'{forward.precision}: {forward.detail}'
    hist = np.zeros((num_classes, num_classes), np.int64)
    counts = dict(total=0, void=0)
    image_accuracies = []
    image_size = label_size = None
    batch = []  # (image as segmented, labels, image path)

    def flush():
        if not batch:
            return
        if ms or len(batch) == 1:
            logprobs = [
                segment(model, image, ms=ms, mean=mean, std=std, forward=forward)
                for image, _, _ in batch
            ]
        else:  # one forward pass for the batch (equal sizes): the same up to float rounding
            h, w = batch[0][0].shape[:2]
            inputs = torch.cat([normalize(im, mean, std) for im, _, _ in batch])
            out = log_probabilities(model, inputs, forward)
            logprobs = list(out[:, :, :h, :w])
        for logprob, (image, label, path) in zip(logprobs, batch):
            if spec.logits_to_label:
                logprob = resize_log_probabilities(logprob, label.shape)
            if spec.labels_to_image:
                label = resize_label(
                    label, image.shape[:2],
                    'nearest' if label_resize == 'bilinear-legacy' else label_resize)
            pred = logprob.argmax(0).numpy()
            if pred.shape != label.shape:
                raise ScoreInputError(f'{path}: prediction {pred.shape} vs labels {label.shape}')
            hist[...] += fast_hist(label, pred, num_classes)
            valid = label < num_classes
            if valid.any():
                image_accuracies.append(float((pred[valid] == label[valid]).mean()))
            counts['total'] += label.size
            counts['void'] += int(((label < 0) | (label >= num_classes)).sum())
        batch.clear()

    start = time.perf_counter()
    for image_path, label_path in _progress(pairs, len(pairs), progress):
        image, label = read_pair(image_path, label_path)
        if image_size is None:
            image_size, label_size = image.shape[:2], label.shape
        elif image.shape[:2] != image_size:
            raise ScoreInputError(f'{image_path} is {image.shape[1]}x{image.shape[0]} (w x h); the '
                                  f'first image was {image_size[1]}x{image_size[0]}: one '
                                  'generator output size per run')
        if spec.needs_label_size and image.shape[:2] != label.shape:
            raise ScoreInputError(
                f'{image_path} is {image.shape[1]}x{image.shape[0]} but its labels {label_path} '
                f'are {label.shape[1]}x{label.shape[0]}: full-res scores real images at the '
                "labels' size (generated images: native, upsample-image or upsample-logits)")
        image = as_segmented(image, label)
        if batch and (batch[0][0].shape != image.shape):
            flush()  # upsample-image at labels of another size: a new batch
        batch.append((image, label, image_path))
        if len(batch) >= batch_size:
            flush()
    flush()
    total_pixels, void_pixels = counts['total'], counts['void']
    seconds = time.perf_counter() - start
    iou = per_class_iou(hist)
    diag = np.diag(hist).astype(np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        class_acc = diag / hist.sum(1)
    names = list(
        class_names or getattr(model, 'dataset_meta', {}).get('classes') or range(num_classes))
    if cityscapes and len(names) != 19:
        from mmseg.utils import get_classes
        names = list(get_classes('cityscapes'))
    per_class = {str(n): None if np.isnan(v) else float(v * 100) for n, v in zip(names, iou)}
    miou = float(np.nanmean(iou) * 100)
    result = dict(
        mIoU=miou, mIoU_2dp=round(miou, 2), acc_valid=float(diag.sum() / max(hist.sum(), 1) * 100),
        acc_all=float(diag.sum() / max(total_pixels, 1) * 100),
        acc_per_image=float(np.mean(image_accuracies) * 100) if image_accuracies else None,
        mean_class_acc=float(np.nanmean(class_acc) * 100),
        void_fraction=float(void_pixels / max(total_pixels, 1)), per_class_iou=per_class)
    # how the number was made
    result.update(
        num_images=len(pairs), protocol=protocol, multi_scale=bool(ms), label_kind=label_kind,
        num_classes=num_classes, normalization=norm_name, image_size=list(image_size or []),
        label_size=list(label_size or []), image_resize=image_resize, label_resize=label_resize,
        image_formats=dict(sorted(kinds.items())),
        warnings=_input_warnings(kinds) + _label_resize_warnings(spec, image_size, label_size),
        legacy_steps=_legacy_steps(label_resize), metrics_printed_by=METRICS_PRINTED_BY,
        real_size=list(real_size) if real_size else None, batch_size=batch_size,
        precision=precision_detail, device=str(next(model.parameters()).device))
    result.update(
        seconds=round(seconds, 3), seconds_per_image=round(seconds / max(len(pairs), 1), 4),
        confusion_matrix=hist.tolist())
    if checkpoint:
        result['checkpoint'] = dict(
            file=osp.basename(checkpoint), sha256=checkpoint_sha256 or sha256_of(checkpoint))
    return result


def markdown_report(result: Dict) -> str:
    ck = result.get('checkpoint') or {}
    per_image = result.get('acc_per_image')
    lines = [f"# DRN score: {result['protocol']}{' + ms' if result['multi_scale'] else ''}", '']
    for step in result.get('legacy_steps') or []:
        lines += [f'**Legacy:** {step}.', '']
    lines += [
        '| mIoU | acc (pooled, 255 ignored) | acc (pooled, 255 counted wrong) | acc (per image) '
        '| mean class acc | void | images |', '|---|---|---|---|---|---|---|',
        f"| {result['mIoU']:.2f} | {result['acc_valid']:.2f} | {result['acc_all']:.2f} | "
        f"{'n/a' if per_image is None else f'{per_image:.2f}'} | "
        f"{result['mean_class_acc']:.2f} | {result['void_fraction'] * 100:.1f} % | "
        f"{result['num_images']} |", '', 'Which paper printed which: ' +
        '; '.join(f'{name}: {who}'
                  for name, who in (result.get('metrics_printed_by') or {}).items()) + '.', '',
        f"Images {result['image_size']} (h, w), labels {result['label_size']} "
        f"({result['label_kind']}; resized with {result.get('label_resize', 'nearest')} where the "
        f"protocol resizes them); image resize {result['image_resize']}; normalization "
        f"{result['normalization']}; real_size {result['real_size']}; precision "
        f"{result['precision']}; "
        f"{result['seconds_per_image']} s/image on {result['device']}.", 'Image files: ' +
        ', '.join(f'{n} {kind}' for kind, n in (result.get('image_formats') or {}).items()) + '.',
        f"Checkpoint: {ck.get('file', '?')} (sha256 {ck.get('sha256', '?')}).", ''
    ]
    for warning in result.get('warnings') or []:
        lines += [f'**Warning:** {warning}.', '']
    lines += ['| class | IoU |', '|---|---|']
    for name, value in result['per_class_iou'].items():
        lines.append(f"| {name} | {'n/a' if value is None else f'{value:.2f}'} |")
    return '\n'.join(lines) + '\n'


def write_report(result: Dict, json_path: Optional[str] = None,
                 markdown_path: Optional[str] = None) -> None:
    for path, text in ((json_path, lambda: json.dumps(result, indent=1)),
                       (markdown_path, lambda: markdown_report(result))):
        if path:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text())

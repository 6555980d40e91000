"""Generated images and label maps: pairing by file name, reading, Cityscapes label ids."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = [
    'ScoreInputError', 'CITYSCAPES_ID_TO_TRAIN_ID', 'LABEL_KINDS', 'pair_files', 'read_rgb_image',
    'read_label', 'detect_label_kind', 'to_class_indices'
]

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp')
#: endings generators and Cityscapes give the same scene's files (longest first)
_SUFFIXES = ('_gtFine_labelTrainIds', '_gtFine_labelIds', '_labelTrainIds', '_labelIds',
             '_leftImg8bit', '_synthesized_image', '_fake_B', '_real_A', '_fake', '_gtFine')
#: 'labelIds': Cityscapes' 34 ids (mapped to train ids, 255 for the rest); 'trainIds': 19 + 255;
#: 'index': class indices of any data set (values >= num_classes ignored)
LABEL_KINDS = ('auto', 'labelIds', 'trainIds', 'index')


class ScoreInputError(ValueError):
    """Images or labels the score cannot use: unpaired, unreadable, wrong size or values."""


def _cityscapes_table() -> np.ndarray:
    from cityscapesscripts.helpers.labels import labels
    table = np.full(256, 255, np.uint8)
    for label in labels:
        if 0 <= label.id < 256 and 0 <= label.trainId < 255:
            table[label.id] = label.trainId
    return table


#: Cityscapes labelId (0-33) -> trainId (0-18), 255 for every other value (cityscapesScripts)
CITYSCAPES_ID_TO_TRAIN_ID = _cityscapes_table()


def _key(path: str) -> str:
    stem = osp.splitext(osp.basename(path))[0]
    for suffix in _SUFFIXES:
        if stem.endswith(suffix):
            return stem[:-len(suffix)]
    return stem


def _list(folder: str, what: str) -> List[str]:
    if not osp.isdir(folder):
        raise ScoreInputError(f'{what} folder not found: {folder}')
    found = []
    for root, _, names in os.walk(folder):
        found += [osp.join(root, n) for n in names if n.lower().endswith(IMAGE_EXTENSIONS)]
    if not found:
        raise ScoreInputError(f'no image files ({", ".join(IMAGE_EXTENSIONS)}) under {folder}')
    return sorted(found)


def _label_files(folder: str, kind: str) -> List[str]:
    files = _list(folder, 'labels')
    # a gtFine folder holds several maps per scene: take the one asked for (or found)
    for suffix, wanted in (('_labelTrainIds.png', ('auto', 'trainIds')), ('_labelIds.png',
                                                                          ('auto', 'labelIds'))):
        chosen = [f for f in files if f.endswith(suffix)]
        if chosen and kind in wanted:
            return chosen
    return [f for f in files if not f.endswith(('_color.png', '_instanceIds.png'))]


def pair_files(images: str, labels: str, label_kind: str = 'auto') -> List[Tuple[str, str]]:
    """(image, label) pairs matched by file name, Cityscapes/generator endings removed
    (``frankfurt_000000_000294_leftImg8bit.png`` <-> ``..._gtFine_labelIds.png``).

    Raises :class:`ScoreInputError` listing every unpaired or ambiguous file."""
    image_files = _list(images, 'images')
    label_files = _label_files(labels, label_kind)
    by_key: Dict[str, List[str]] = {}
    for kind, files in (('image', image_files), ('label', label_files)):
        seen: Dict[str, str] = {}
        for f in files:
            key = _key(f)
            if key in seen:
                raise ScoreInputError(f'two {kind} files for the scene {key!r}: {seen[key]} and '
                                      f'{f}')
            seen[key] = f
        by_key[kind] = seen
    lone_images = sorted(set(by_key['image']) - set(by_key['label']))
    lone_labels = sorted(set(by_key['label']) - set(by_key['image']))
    if lone_images or lone_labels:
        lines = [
            f'{len(lone_images)} image(s) without a label and {len(lone_labels)} label(s) '
            f'without an image (paired by name without {", ".join(_SUFFIXES[:5])}, ...):'
        ]
        lines += [f'  image without label: {by_key["image"][k]}' for k in lone_images[:10]]
        lines += [f'  label without image: {by_key["label"][k]}' for k in lone_labels[:10]]
        if len(lone_images) + len(lone_labels) > 20:
            lines.append('  ...')
        raise ScoreInputError('\n'.join(lines))
    return [(by_key['image'][k], by_key['label'][k]) for k in sorted(by_key['image'])]


def read_rgb_image(path: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert('RGB'))
    except Exception as e:
        raise ScoreInputError(f'cannot read image {path}: {type(e).__name__}: {e}') from None


def read_label(path: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            if im.mode not in ('L', 'P', 'I', 'I;16'):
                raise ScoreInputError(f'{path} is a {im.mode} image: a label map has one channel '
                                      '(a colour-coded *_color.png is not a label map)')
            label = np.asarray(im)
    except ScoreInputError:
        raise
    except Exception as e:
        raise ScoreInputError(f'cannot read label map {path}: {type(e).__name__}: {e}') from None
    if label.max(initial=0) > 255:
        raise ScoreInputError(f'{path}: values up to {label.max()} do not fit 8 bits')
    return label.astype(np.uint8)


def detect_label_kind(pairs: Sequence[Tuple[str, str]], probe: int = 20) -> str:
    """'trainIds' or 'labelIds', from the file names, else from the values of a few files."""
    names = [label for _, label in pairs]
    if all(n.endswith('_labelTrainIds.png') for n in names):
        return 'trainIds'
    if all(n.endswith('_labelIds.png') for n in names):
        return 'labelIds'
    high, void = False, False
    for name in names[:probe]:
        values = np.unique(read_label(name))
        if ((values > 33) & (values != 255)).any():
            raise ScoreInputError(f'{name} holds values {values[(values > 33) & (values != 255)]}:'
                                  ' neither Cityscapes labelIds (0-33) nor trainIds (0-18, 255)')
        high |= bool(((values >= 19) & (values <= 33)).any())
        void |= bool((values == 255).any())
    if high:
        return 'labelIds'
    if void:
        return 'trainIds'
    raise ScoreInputError(f'cannot tell labelIds from trainIds in {names[0]} ...: all values are '
                          '0-18 and none is 255; pass --label-type labelIds or trainIds')


def to_class_indices(label: np.ndarray, kind: str, path: str, num_classes: int) -> np.ndarray:
    """Label map -> class indices with 255 for ignored pixels."""
    if kind == 'labelIds':
        bad = (label > 33) & (label != 255)
        if bad.any():
            raise ScoreInputError(f'{path}: values {np.unique(label[bad])} are not Cityscapes '
                                  'labelIds (0-33)')
        return CITYSCAPES_ID_TO_TRAIN_ID[label]
    if kind == 'trainIds':
        bad = (label >= 19) & (label != 255)
        if bad.any():
            raise ScoreInputError(f'{path}: values {np.unique(label[bad])} are not Cityscapes '
                                  'trainIds (0-18, 255); labelIds? pass --label-type labelIds')
        return label
    out = label.copy()
    out[label >= num_classes] = 255
    return out

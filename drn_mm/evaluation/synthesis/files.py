"""Generated images and label maps: pairing (by file name, the field's label names, or a pairs
file), reading (with what each image is: format and mode), Cityscapes label ids."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = [
    'ScoreInputError', 'CITYSCAPES_ID_TO_TRAIN_ID', 'LABEL_KINDS', 'ALPHA_MODES',
    'list_image_files', 'pair_files', 'read_pairs_file', 'read_rgb_image', 'read_generated_image',
    'read_label', 'detect_label_kind', 'to_class_indices'
]

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp')
#: endings generators and Cityscapes give the same scene's files (longest first)
_SUFFIXES = ('_gtFine_labelTrainIds', '_gtFine_trainIds', '_gtFine_labelIds', '_labelTrainIds',
             '_trainIds', '_labelIds', '_leftImg8bit', '_synthesized_image', '_fake_B', '_real_A',
             '_fake', '_gtFine')
#: label-map endings of each kind: cityscapesScripts writes ``_labelTrainIds``; the authors'
#: prepare_data.py (read by GAN Compression and VASIS) writes ``_trainIds``
_TRAIN_ID_ENDINGS = ('_labelTrainIds.png', '_trainIds.png')
_LABEL_ID_ENDINGS = ('_labelIds.png', )
#: how to read a generated image whose alpha is not opaque: refuse, or composite on a colour
ALPHA_MODES = ('error', 'black', 'white')
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


def list_image_files(folder: str, what: str) -> List[str]:
    if not osp.isdir(folder):
        raise ScoreInputError(f'{what} folder not found: {folder}')
    found = []
    for root, _, names in os.walk(folder):
        found += [osp.join(root, n) for n in names if n.lower().endswith(IMAGE_EXTENSIONS)]
    if not found:
        raise ScoreInputError(f'no image files ({", ".join(IMAGE_EXTENSIONS)}) under {folder}')
    return sorted(found)


def _label_files(folder: str, kind: str) -> List[str]:
    files = list_image_files(folder, 'labels')
    # a gtFine folder holds several maps per scene: take the one asked for (or found)
    for endings, wanted in ((_TRAIN_ID_ENDINGS, ('auto', 'trainIds')), (_LABEL_ID_ENDINGS,
                                                                        ('auto', 'labelIds'))):
        chosen = [f for f in files if f.endswith(endings)]
        if chosen and kind in wanted:
            return chosen
    rest = [f for f in files if not f.endswith(('_color.png', '_instanceIds.png'))]
    if not rest and any(f.endswith('_color.png') for f in files):
        raise ScoreInputError(
            f'{folder} holds only *_color.png files (e.g. {files[0]}): those are colour pictures '
            'of the labels, not label maps. Score against *_gtFine_labelIds.png (Cityscapes\' '
            'release) or *_gtFine_trainIds.png / *_gtFine_labelTrainIds.png (the authors\' '
            'prepare_data.py, cityscapesScripts\' createTrainIdLabelImgs)')
    return rest


def _listing(lone_images, lone_labels, doubles, how: str) -> ScoreInputError:
    lines = [
        f'{len(lone_images)} image(s) without a label, {len(lone_labels)} label(s) without an '
        f'image and {len(doubles)} file(s) paired more than once ({how}):'
    ]
    lines += [f'  image without label: {f}' for f in lone_images[:10]]
    lines += [f'  label without image: {f}' for f in lone_labels[:10]]
    lines += [f'  paired more than once: {f}' for f in doubles[:10]]
    if max(len(lone_images), len(lone_labels), len(doubles)) > 10:
        lines.append('  ...')
    return ScoreInputError('\n'.join(lines))


def pair_files(images: str, labels: str, label_kind: str = 'auto',
               pairs_file: Optional[str] = None) -> List[Tuple[str, str]]:
    """(image, label) pairs: from ``pairs_file`` (:func:`read_pairs_file`), else matched by file
    name with Cityscapes' / generators' endings removed (``frankfurt_000000_000294_leftImg8bit.png``
    <-> ``..._gtFine_labelIds.png`` or ``..._gtFine_trainIds.png``).

    Raises :class:`ScoreInputError` listing every unpaired or doubly-paired file."""
    image_files = list_image_files(images, 'images')
    label_files = _label_files(labels, label_kind)
    if pairs_file is not None:
        return read_pairs_file(pairs_file, images, labels, image_files, label_files)
    by_key: Dict[str, Dict[str, str]] = {}
    doubles = []
    for kind, files in (('image', image_files), ('label', label_files)):
        seen: Dict[str, str] = {}
        for f in files:
            key = _key(f)
            if key in seen:
                doubles += [seen[key], f]
            seen[key] = f
        by_key[kind] = seen
    lone_images = [by_key['image'][k] for k in sorted(set(by_key['image']) - set(by_key['label']))]
    lone_labels = [by_key['label'][k] for k in sorted(set(by_key['label']) - set(by_key['image']))]
    if lone_images or lone_labels or doubles:
        raise _listing(
            lone_images, lone_labels, doubles, f'paired by name without {", ".join(_SUFFIXES[:6])}'
            ', ...; outputs named by index (0.png, 1.png, ...) need --pairs FILE')
    return [(by_key['image'][k], by_key['label'][k]) for k in sorted(by_key['image'])]


def read_pairs_file(path: str, images: str, labels: str, image_files: Sequence[str],
                    label_files: Sequence[str]) -> List[Tuple[str, str]]:
    """Pairs from a text file: ``IMAGE LABEL`` per line (whitespace or a comma between; paths
    relative to the images and labels folders; ``#`` comments), for outputs named by index
    (pix2pix's ``0.png .. 499.png``). Every file of either folder must be paired exactly once:
    the error lists the unpaired, doubly-paired and missing ones."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ScoreInputError(f'cannot read the pairs file {path}: {e}') from None
    pairs, problems = [], []
    for number, line in enumerate(lines, 1):
        line = line.split('#', 1)[0].replace(',', ' ').strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            problems.append(f'  {path} line {number}: {len(fields)} fields, expected IMAGE LABEL')
            continue
        image, label = (osp.normpath(osp.join(root, name))
                        for root, name in zip((images, labels), fields))
        for what, f in (('image', image), ('label', label)):
            if not osp.isfile(f):
                problems.append(f'  {path} line {number}: {what} {f} does not exist')
        pairs.append((image, label))
    if problems:
        raise ScoreInputError(f'{len(problems)} problem(s) in the pairs file:\n' +
                              '\n'.join(problems[:20]))
    if not pairs:
        raise ScoreInputError(f'the pairs file {path} pairs nothing')
    used_images = [i for i, _ in pairs]
    used_labels = [la for _, la in pairs]
    doubles = sorted({f
                      for f in used_images if used_images.count(f) > 1}
                     | {f
                        for f in used_labels if used_labels.count(f) > 1})
    lone_images = sorted(set(map(osp.normpath, image_files)) - set(used_images))
    lone_labels = sorted(set(map(osp.normpath, label_files)) - set(used_labels))
    if lone_images or lone_labels or doubles:
        raise _listing(lone_images, lone_labels, doubles, f'pairs from {path}')
    return pairs


def read_generated_image(path: str, alpha: str = 'error') -> Tuple[np.ndarray, str]:
    """An image as uint8 RGB, and what it was (``'PNG RGB'``, ``'JPEG L'``, ``'PNG RGBA'``...).

    Grayscale and palette images are expanded to RGB (what a network fed RGB sees), opaque RGBA
    drops its alpha; a non-opaque alpha is an error unless ``alpha`` says how to composite
    ('black' or 'white' behind it)."""
    if alpha not in ALPHA_MODES:
        raise ValueError(f'alpha={alpha!r}; valid: {ALPHA_MODES}')
    try:
        with Image.open(path) as im:
            kind = f'{im.format or "?"} {im.mode}'
            if im.mode in ('RGBA', 'LA', 'PA') or (im.mode == 'P' and 'transparency' in im.info):
                rgba = np.asarray(im.convert('RGBA'))
                if (rgba[..., 3] < 255).any():
                    if alpha == 'error':
                        raise ScoreInputError(
                            f'{path} is {kind} with a non-opaque alpha ('
                            f'{int((rgba[..., 3] < 255).sum())} pixels): what the generator made '
                            'behind it is unknown. Pass --alpha black or --alpha white to '
                            'composite on that colour, or save the images without alpha')
                    back = 0.0 if alpha == 'black' else 255.0
                    a = rgba[..., 3:4].astype(np.float64) / 255
                    rgb = rgba[..., :3].astype(np.float64) * a + back * (1 - a)
                    return np.round(rgb).astype(np.uint8), f'{kind} (composited on {alpha})'
                return np.ascontiguousarray(rgba[..., :3]), kind
            return np.asarray(im.convert('RGB')), kind
    except ScoreInputError:
        raise
    except Exception as e:
        raise ScoreInputError(f'cannot read image {path}: {type(e).__name__}: {e}') from None


def read_rgb_image(path: str) -> np.ndarray:
    """An image as uint8 RGB (see :func:`read_generated_image`)."""
    return read_generated_image(path)[0]


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
    if all(n.endswith(_TRAIN_ID_ENDINGS) for n in names):
        return 'trainIds'
    if all(n.endswith(_LABEL_ID_ENDINGS) for n in names):
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


def to_class_indices(label: np.ndarray, kind: str, path: str, num_classes: int,
                     ignore_above: Optional[int] = None) -> np.ndarray:
    """Label map -> class indices with 255 for ignored pixels.

    ``index`` labels: values 0..num_classes-1 and 255; any other value is an error naming the
    file, unless ``ignore_above`` (>= num_classes - 1) says values above it are ignored."""
    if kind == 'labelIds':
        bad = label > 33  # a labelIds file holds 0-33 only: 255 is trainIds' ignore value
        if bad.any():
            values = np.unique(label[bad])
            hint = ('; 255 is the ignore value of trainIds files: these are trainIds labels, '
                    'pass --label-type trainIds' if
                    (values == 255).all() and label[label != 255].max(initial=0) <= 18 else '')
            raise ScoreInputError(f'{path}: values {values} are not Cityscapes labelIds '
                                  f'(0-33){hint}')
        return CITYSCAPES_ID_TO_TRAIN_ID[label]
    if kind == 'trainIds':
        bad = (label >= 19) & (label != 255)
        if bad.any():
            raise ScoreInputError(f'{path}: values {np.unique(label[bad])} are not Cityscapes '
                                  'trainIds (0-18, 255); labelIds? pass --label-type labelIds')
        return label
    if ignore_above is not None and ignore_above < num_classes - 1:
        raise ScoreInputError(f'ignore_above={ignore_above} would ignore classes of the '
                              f'{num_classes}-class model; it must be >= {num_classes - 1}')
    limit = num_classes - 1 if ignore_above is None else ignore_above
    # values above ``ignore_above`` are ignored; any other non-index value but 255 is an error
    upper = 255 if ignore_above is None else ignore_above
    bad = (label >= num_classes) & (label <= upper) & (label != 255)
    if bad.any():
        values = np.unique(label[bad])
        hint = ('; Cityscapes labelIds? pass --label-type labelIds'
                if num_classes == 19 and values.max() <= 33 else '')
        raise ScoreInputError(
            f'{path}: values {values[:10]} are not class indices of the {num_classes}-class model '
            f'(0-{num_classes - 1}, 255 ignored){hint}; to ignore values above K, pass '
            '--ignore-above K')
    out = label.copy()
    out[label > limit] = 255
    return out

"""The demo Cityscapes generator: layout, determinism, label content, mmseg can read it."""
import glob
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from drn_mm.demo import cityscapes as dc
from drn_mm.demo.cityscapes import generate_demo_cityscapes

NUM_TRAIN, NUM_VAL, SIZE, SEED = 8, 3, (128, 256), 0
IMG_SUFFIX, SEG_SUFFIX = '_leftImg8bit.png', '_gtFine_labelTrainIds.png'
TRAIN_IDS = {CLS: i for i, CLS in enumerate(dc.CLASSES)}


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('demo') / 'cityscapes')
    summary = generate_demo_cityscapes(root, num_train=NUM_TRAIN, num_val=NUM_VAL, size=SIZE,
                                       seed=SEED)
    return root, summary


def relative_files(root):
    return sorted(
        osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*'), recursive=True)
        if osp.isfile(p))


def read(path):
    return np.asarray(Image.open(path))


def split_label_maps(root, split):
    paths = sorted(glob.glob(osp.join(root, 'gtFine', split, '*', '*' + SEG_SUFFIX)))
    return paths, [read(p) for p in paths]


def runs(mask, axis):
    """Lengths of the runs of True along ``axis`` (rows: axis=1, columns: axis=0)."""
    m = np.moveaxis(mask, axis, -1).reshape(-1, mask.shape[axis]).astype(np.int8)
    padded = np.pad(m, ((0, 0), (1, 1)))
    diff = np.diff(padded, axis=1)
    starts, ends = np.nonzero(diff == 1), np.nonzero(diff == -1)
    return ends[1] - starts[1]


def test_layout_matches_cityscapes(demo):
    root, summary = demo
    h, w = SIZE
    expected = []
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        stems = []
        assert sorted(os.listdir(osp.join(root, 'leftImg8bit', split))) == sorted(dc.CITIES[split])
        for city in dc.CITIES[split]:
            for name in sorted(os.listdir(osp.join(root, 'leftImg8bit', split, city))):
                assert name.endswith(IMG_SUFFIX), name
                stem = name[:-len(IMG_SUFFIX)]
                c, seq, frame = stem.split('_')
                assert c == city and len(seq) == 6 and seq.isdigit() and frame == '000019'
                stems.append(f'{city}/{stem}')
        assert len(stems) == num
        with open(osp.join(root, f'{split}.txt')) as f:
            assert f.read().splitlines() == sorted(stems)
        for entry in stems:
            city, stem = entry.split('/')
            expected.append(f'leftImg8bit/{split}/{city}/{stem}{IMG_SUFFIX}')
            expected += [
                f'gtFine/{split}/{city}/{stem}_gtFine_{s}'
                for s in ('polygons.json', 'labelIds.png', 'labelTrainIds.png')
            ]
    extra = ['demo_cityscapes.json', 'test.txt', 'train.txt', 'val.txt']
    assert relative_files(root) == sorted(expected + extra)

    for path in expected:
        full = osp.join(root, path)
        if path.endswith('.png'):
            image = Image.open(full)
            assert image.size == (w, h)
            assert image.mode == ('RGB' if path.endswith(IMG_SUFFIX) else 'L')
        else:  # the Cityscapes polygon format
            with open(full) as f:
                ann = json.load(f)
            assert set(ann) == {'imgHeight', 'imgWidth', 'objects'}
            assert (ann['imgHeight'], ann['imgWidth']) == (h, w)
            assert ann['objects'] and ann['objects'][0]['label'] == 'sky'
            for obj in ann['objects']:
                assert set(obj) == {'label', 'polygon'} and obj['label'] in dc.LABELS
                pts = np.asarray(obj['polygon'])
                assert pts.ndim == 2 and pts.shape[0] >= 3 and pts.shape[1] == 2
                assert pts.dtype.kind == 'i'
                assert pts[:, 0].min() >= 0 and pts[:, 0].max() < w
                assert pts[:, 1].min() >= 0 and pts[:, 1].max() < h
    assert summary['num_images'] == {'train': NUM_TRAIN, 'val': NUM_VAL}
    assert summary['cities'] == {'train': ['aachen', 'bremen'], 'val': ['frankfurt']}
    assert summary['converted'] is True


def test_mmseg_cityscapes_dataset_reads_it(demo):
    import mmseg.datasets  # noqa: F401  (registers the transforms)
    from mmseg.datasets import CityscapesDataset
    from mmseg.datasets.transforms import LoadAnnotations
    root, _ = demo
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        dataset = CityscapesDataset(
            data_root=root, data_prefix=dict(img_path=f'leftImg8bit/{split}',
                                             seg_map_path=f'gtFine/{split}'), pipeline=[])
        assert len(dataset) == num
        info = dataset.get_data_info(0)
        assert info['img_path'].endswith(IMG_SUFFIX) and osp.isfile(info['img_path'])
        assert info['seg_map_path'].endswith(SEG_SUFFIX) and osp.isfile(info['seg_map_path'])
    loaded = LoadAnnotations()(dict(info, seg_fields=[]))
    assert loaded['gt_seg_map'].shape == SIZE
    assert set(np.unique(loaded['gt_seg_map'])) <= set(range(19)) | {255}


def test_label_maps_agree_and_cover_the_classes(demo):
    root, summary = demo
    id_to_train = np.full(256, 255, np.uint8)
    for label_id, train_id in dc.LABELS.values():
        id_to_train[label_id] = train_id
    counts = np.zeros(256, np.int64)
    for split in ('train', 'val'):
        paths, maps = split_label_maps(root, split)
        split_counts = np.zeros(256, np.int64)
        for path, train_ids in zip(paths, maps):
            assert train_ids.dtype == np.uint8
            assert set(np.unique(train_ids)) <= set(range(19)) | {255}, path
            label_ids = read(path.replace('labelTrainIds', 'labelIds'))
            np.testing.assert_array_equal(id_to_train[label_ids], train_ids, err_msg=path)
            split_counts += np.bincount(train_ids.ravel(), minlength=256)
        total = split_counts.sum()
        for name, freq in summary['class_freq'][split].items():
            assert freq == pytest.approx(split_counts[TRAIN_IDS[name]] / total, abs=1e-6)
        assert summary['ignore_freq'][split] == pytest.approx(split_counts[255] / total, abs=1e-6)
        counts += split_counts
    present = [name for name in dc.CLASSES if counts[TRAIN_IDS[name]] > 0]
    assert len(present) >= 14, present
    for name in ('road', 'sidewalk', 'building', 'vegetation', 'sky', 'car', 'pole', 'traffic sign',
                 'traffic light', 'person'):
        assert name in present
    assert 0 < counts[255] / counts.sum() < 0.1  # the ignore index appears, a little


def test_thin_and_small_objects(demo):
    root, _ = demo
    _, maps = split_label_maps(root, 'train')
    pole_widths, sign_widths, person_heights = [], [], []
    for train_ids in maps:
        # poles are vertical: the horizontal runs of pole pixels are their widths
        pole_widths.append(runs(train_ids == TRAIN_IDS['pole'], axis=1))
        sign_widths.append(runs(train_ids == TRAIN_IDS['traffic sign'], axis=1))
        person_heights.append(runs(train_ids == TRAIN_IDS['person'], axis=0))
    pole_widths, sign_widths, person_heights = (
        np.concatenate(r) for r in (pole_widths, sign_widths, person_heights))
    assert len(pole_widths) > 100 and len(sign_widths) > 10 and len(person_heights) > 10
    assert np.median(pole_widths) <= 3 and np.mean(pole_widths <= 3) > 0.8
    assert (pole_widths == 1).any()
    assert np.median(sign_widths) <= 8 and sign_widths.min() <= 3
    assert np.median(person_heights) <= 20 and person_heights.min() <= 8  # a few px tall
    # every image has poles, most have a person
    assert all((m == TRAIN_IDS['pole']).any() for m in maps)
    assert np.mean([(m == TRAIN_IDS['person']).any() for m in maps]) >= 0.75


def test_images_are_textured_not_flat(demo):
    """Classes are not given away by a single pixel colour: they vary inside, and the means of
    some classes are close to each other."""
    root, _ = demo
    paths, maps = split_label_maps(root, 'train')
    pixels = {name: [] for name in dc.CLASSES}
    for path, train_ids in zip(paths, maps):
        img_path = path.replace('gtFine', 'leftImg8bit', 1).replace(SEG_SUFFIX, IMG_SUFFIX)
        image = read(img_path).astype(np.float32)
        for name, index in TRAIN_IDS.items():
            pixels[name].append(image[train_ids == index])
    pixels = {k: np.concatenate(v) for k, v in pixels.items() if sum(map(len, v))}
    for name in ('road', 'sidewalk', 'building', 'vegetation', 'terrain', 'sky'):
        assert pixels[name].std(0).mean() > 4, name
    mean = {k: v.mean(0) for k, v in pixels.items()}
    assert np.abs(mean['road'] - mean['pole']).max() < 25
    assert np.abs(mean['vegetation'] - mean['terrain']).max() < 30
    assert pixels['vegetation'].std(0).mean() > 1.5 * pixels['terrain'].std(0).mean()


def test_deterministic(demo, tmp_path):
    root, _ = demo
    again = str(tmp_path / 'again')
    generate_demo_cityscapes(again, num_train=NUM_TRAIN, num_val=NUM_VAL, size=SIZE, seed=SEED)
    files = relative_files(root)
    assert relative_files(again) == files
    for rel in files:
        with open(osp.join(root, rel), 'rb') as a, open(osp.join(again, rel), 'rb') as b:
            assert a.read() == b.read(), rel

    other = str(tmp_path / 'other')
    generate_demo_cityscapes(other, num_train=NUM_TRAIN, num_val=NUM_VAL, size=SIZE, seed=SEED + 1,
                             convert=False)
    for rel in files:
        if rel.endswith((IMG_SUFFIX, '_polygons.json')):
            with open(osp.join(root, rel), 'rb') as a, open(osp.join(other, rel), 'rb') as b:
                assert a.read() != b.read(), rel
    assert not glob.glob(osp.join(other, 'gtFine', '*', '*', '*' + SEG_SUFFIX))
    assert not osp.exists(osp.join(other, 'train.txt'))


def test_regenerate_replaces_own_output_and_protects_foreign_data(tmp_path):
    root = str(tmp_path / 'cs')
    generate_demo_cityscapes(root, num_train=4, num_val=2, size=(48, 96), convert=False)
    summary = generate_demo_cityscapes(root, num_train=2, num_val=1, size=(48, 96), convert=False)
    assert len(glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png'))) == 2
    assert len(glob.glob(osp.join(root, 'gtFine', 'val', '*', '*_polygons.json'))) == 1
    assert summary['num_images'] == {'train': 2, 'val': 1}

    foreign = tmp_path / 'real'
    (foreign / 'gtFine' / 'train' / 'x').mkdir(parents=True)
    (foreign / 'gtFine' / 'train' / 'x' / 'a.json').write_text('{}')
    with pytest.raises(FileExistsError, match='not written by generate_demo_cityscapes'):
        generate_demo_cityscapes(str(foreign), num_train=1, num_val=1, convert=False)
    assert (foreign / 'gtFine' / 'train' / 'x' / 'a.json').exists()


@pytest.mark.parametrize('kwargs, match', [
    (dict(size=(16, 64)), 'size must be'),
    (dict(size=(64, )), 'size must be'),
    (dict(num_train=-1), 'num_train must be'),
    (dict(num_val=1.5), 'num_val must be'),
    (dict(seed=-3), 'seed must be'),
    (dict(num_train=0, num_val=0), 'at least 1'),
])
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_demo_cityscapes(str(tmp_path / 'x'), convert=False, **kwargs)
    assert not (tmp_path / 'x').exists()


def test_converter_is_the_one_in_the_mmseg_wheel(monkeypatch, tmp_path):
    import mmseg
    path = dc.find_mmseg_cityscapes_converter()
    assert osp.isfile(path)
    assert path == osp.join(
        osp.dirname(mmseg.__file__), '.mim', 'tools', 'dataset_converters', 'cityscapes.py')

    class Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: Spec())
    with pytest.raises(FileNotFoundError, match='dataset_converters'):
        dc.find_mmseg_cityscapes_converter()
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        generate_demo_cityscapes(str(tmp_path / 'y'), num_train=1, num_val=0)
    assert not (tmp_path / 'y').exists()


def test_command_line(tmp_path, capsys):
    out = str(tmp_path / 'cli')
    summary = dc.main([
        '--out', out, '--num-train', '3', '--num-val', '1', '--size', '64', '128', '--seed', '5',
        '--no-convert'
    ])
    printed = capsys.readouterr().out
    assert 'traffic sign' in printed and 'ignore (255)' in printed and out in printed
    assert summary['size'] == [64, 128] and summary['seed'] == 5
    assert len(glob.glob(osp.join(out, 'leftImg8bit', 'train', '*', '*' + IMG_SUFFIX))) == 3
    with open(osp.join(out, 'demo_cityscapes.json')) as f:
        assert json.load(f)['num_images'] == {'train': 3, 'val': 1}

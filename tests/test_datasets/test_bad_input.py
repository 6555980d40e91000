"""Bad input: images (truncated, corrupt, grayscale, RGBA, 16-bit, palette, tiny, huge, odd
sides), label maps (values outside the classes, wrong size, missing, colour-coded, 16-bit) and
splits (missing label files, empty): each works with a documented conversion or fails early with
an error naming the file or directory, and a crash on bad data keeps the last checkpoint."""
import glob
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from PIL import Image
from tool_runs import DEMO_CONFIG, load_state, run, tool_command, train_options

TINY_MODEL = {
    'model.backbone.channels': [4, 8, 8, 8, 16, 16, 16, 16],
    'model.decode_head.in_channels': 16
}


def rng():
    return np.random.default_rng(0)


def load_image(path, **kwargs):
    from drn_mm.datasets import LoadCheckedImageFromFile
    return LoadCheckedImageFromFile(**kwargs)(dict(img_path=str(path)))


def load_label(path, image_shape, num_classes=19, reduce_zero_label=False, label_map=None,
               **kwargs):
    from drn_mm.datasets import LoadCheckedAnnotations
    results = dict(
        seg_map_path=str(path), img_path='image.png', ori_shape=image_shape,
        img=np.zeros(image_shape + (3, ), np.uint8), seg_fields=[],
        reduce_zero_label=reduce_zero_label, label_map=label_map)
    return LoadCheckedAnnotations(num_classes=num_classes, **kwargs)(results)['gt_seg_map']


# ----------------------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize('ext', ['png', 'jpg'])
def test_normal_image_reads_exactly_as_mmcv(tmp_path, ext):
    from mmcv.transforms import LoadImageFromFile
    path = tmp_path / f'a.{ext}'
    Image.fromarray(rng().integers(0, 256, (30, 44, 3), dtype=np.uint8)).save(path)
    ours = load_image(path)
    theirs = LoadImageFromFile()(dict(img_path=str(path)))
    assert np.array_equal(ours['img'], theirs['img'])
    assert ours['img_shape'] == ours['ori_shape'] == (30, 44)


def test_image_conversions_to_8bit_three_channels(tmp_path):
    """The documented conversions (drn_mm.datasets.loading): gray -> 3 equal channels, alpha
    dropped, palette -> its colours, 16-bit -> value >> 8; output BGR uint8."""
    rgb = rng().integers(0, 256, (20, 30, 3), dtype=np.uint8)
    gray16 = rng().integers(0, 65536, (20, 30), dtype=np.uint16)
    bgr16 = rng().integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    Image.fromarray(rgb[..., 0]).save(tmp_path / 'gray.png')
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(tmp_path / 'rgba.png')
    Image.fromarray(rgb[..., 0]).convert('LA').save(tmp_path / 'la.png')
    Image.fromarray(rgb).convert('P').save(tmp_path / 'palette.png')
    cv2.imwrite(str(tmp_path / 'gray16.png'), gray16)
    cv2.imwrite(str(tmp_path / 'bgr16.png'), bgr16)
    out = {
        name: load_image(tmp_path / f'{name}.png')['img']
        for name in ('gray', 'rgba', 'la', 'palette', 'gray16', 'bgr16')
    }
    for name, img in out.items():
        assert img.shape == (20, 30, 3) and img.dtype == np.uint8, name
    assert np.array_equal(out['gray'], np.repeat(rgb[..., :1], 3, axis=2))
    assert np.array_equal(out['rgba'], rgb[..., ::-1])  # BGR, alpha gone
    assert np.array_equal(out['la'], np.repeat(rgb[..., :1], 3, axis=2))
    palette_rgb = np.asarray(Image.fromarray(rgb).convert('P').convert('RGB'))
    assert np.array_equal(out['palette'], palette_rgb[..., ::-1])
    assert np.array_equal(out['gray16'], np.repeat((gray16 >> 8)[..., None], 3, 2).astype(np.uint8))
    assert np.array_equal(out['bgr16'], (bgr16 >> 8).astype(np.uint8))


def _good_png_and_jpg(tmp_path):
    img = rng().integers(0, 256, (40, 60, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / 'good.png')
    Image.fromarray(img).save(tmp_path / 'good.jpg', quality=90)
    return (tmp_path / 'good.png').read_bytes(), (tmp_path / 'good.jpg').read_bytes()


@pytest.mark.parametrize('case',
                         ['truncated_png', 'truncated_jpg', 'garbage', 'empty', 'text_named_png'])
def test_broken_image_is_an_error_naming_the_file(tmp_path, case):
    from drn_mm.datasets import DataError
    png, jpg = _good_png_and_jpg(tmp_path)
    data = {
        'truncated_png': png[:len(png) * 3 // 4],
        'truncated_jpg': jpg[:len(jpg) * 3 // 4],
        'garbage': bytes(range(256)) * 8,
        'empty': b'',
        'text_named_png': b'<html>404 not found</html>'
    }[case]
    path = tmp_path / f'{case}.png'
    path.write_bytes(data)
    with pytest.raises(DataError, match=f'image {path} is corrupt or truncated'):
        load_image(path)


def test_truncation_is_found_even_where_a_decoder_would_return_half_an_image():
    """Some OpenCV/libjpeg builds decode a cut JPEG to a grey-filled image with a warning only:
    the structure check does not depend on the decoder."""
    from drn_mm.datasets.loading import find_truncation
    img = rng().integers(0, 256, (40, 60, 3), dtype=np.uint8)
    jpg = cv2.imencode('.jpg', img)[1].tobytes()
    png = cv2.imencode('.png', img)[1].tobytes()
    assert find_truncation(jpg) is None and find_truncation(png) is None
    assert find_truncation(jpg + b'\x00' * 16) is None  # padding after the end is fine
    assert 'JPEG' in find_truncation(jpg[:-2]) and 'PNG' in find_truncation(png[:-12])
    assert find_truncation(b'') == 'the file is empty'


def test_missing_image_is_an_error_naming_the_file(tmp_path):
    from drn_mm.datasets import DataError
    with pytest.raises(DataError, match=f'image file not found: {tmp_path}/nope.png'):
        load_image(tmp_path / 'nope.png')


# ----------------------------------------------------------------------------------------------
# Label maps
# ----------------------------------------------------------------------------------------------


def test_label_maps_read_as_mmseg_reads_them(tmp_path):
    from mmseg.datasets.transforms import LoadAnnotations
    label = rng().integers(0, 19, (20, 30), dtype=np.uint8)
    label[:3] = 255
    Image.fromarray(label).save(tmp_path / 'l.png')
    for reduce_zero_label, label_map in ((False, None), (True, None), (False, {3: 7, 7: 3})):
        num_classes = 18 if reduce_zero_label else 19
        ours = load_label(tmp_path / 'l.png', (20, 30), num_classes, reduce_zero_label, label_map)
        theirs = LoadAnnotations(reduce_zero_label=reduce_zero_label)(dict(
            seg_map_path=str(tmp_path / 'l.png'), seg_fields=[],
            reduce_zero_label=reduce_zero_label, label_map=label_map))['gt_seg_map']
        assert ours.dtype == theirs.dtype == np.uint8
        assert np.array_equal(ours, theirs), (reduce_zero_label, label_map)


@pytest.mark.parametrize('case,message', [
    ('out_of_range', r'has values \[19, 200\] outside the classes; valid: 0..18 and 255'),
    ('wrong_size', r'is 31x20 \(WxH\) but its image image.png is 30x20'),
    ('colour_coded', r'has shape \(20, 30, 3\): expected one channel of class indices'),
    ('sixteen_bit', r'\(uint16\) has values up to 300: class indices must fit 8 bits'),
    ('truncated', r'is corrupt or truncated'),
    ('missing', r'label file not found: .*missing.png \(for image image.png\)'),
])
def test_bad_label_map_is_an_error_naming_the_file(tmp_path, case, message):
    from drn_mm.datasets import DataError
    label = np.zeros((20, 30), np.uint8)
    path = tmp_path / f'{case}.png'
    if case == 'out_of_range':
        label[0, 0], label[1, 1], label[2, 2] = 19, 200, 255  # 255 is the ignore index: fine
        Image.fromarray(label).save(path)
    elif case == 'wrong_size':
        Image.fromarray(np.zeros((20, 31), np.uint8)).save(path)
    elif case == 'colour_coded':
        Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    elif case == 'sixteen_bit':
        cv2.imwrite(str(path), np.full((20, 30), 300, np.uint16))
    elif case == 'truncated':
        Image.fromarray(label).save(path)
        path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=message) as info:
        load_label(path, (20, 30))
    assert str(path) in str(info.value)


def test_ignore_index_and_16bit_labels_in_range_are_fine(tmp_path):
    label = np.full((20, 30), 255, np.uint16)
    label[5:, :] = 18
    cv2.imwrite(str(tmp_path / 'l16.png'), label)
    out = load_label(tmp_path / 'l16.png', (20, 30))
    assert out.dtype == np.uint8 and set(np.unique(out)) == {18, 255}


# ----------------------------------------------------------------------------------------------
# Splits: checked before the first batch (DRNCheckpointHook, any Runner); an empty split, whose
# build fails inside mmseg, explained by drn_mm's tools
# ----------------------------------------------------------------------------------------------


def _copy_data(src, tmp_path):
    dst = tmp_path / 'cityscapes'
    shutil.copytree(src, dst)
    return str(dst)


def _train(data_root, work_dir, val_root=None):
    """tools/train.py's run on ``data_root`` (one iteration, never reached when a check fails)."""
    from drn_mm.apis import load_config, train
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': val_root or data_root,
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1
    }
    for split in ('train', 'val', 'test'):
        options.update({
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False
        })
    cfg = load_config(DEMO_CONFIG, work_dir=str(work_dir), cfg_options=options)
    return train(cfg)


def test_missing_label_files_fail_at_dataset_build(demo_cityscapes_data, tmp_path):
    from drn_mm.datasets import DataError
    root = _copy_data(demo_cityscapes_data, tmp_path)
    labels = sorted(glob.glob(osp.join(root, 'gtFine', 'train', '*', '*_labelTrainIds.png')))
    for path in labels[:2]:
        shutil.move(path, path + '.bak')
    with pytest.raises(DataError) as info:
        _train(root, tmp_path)
    message = str(info.value)
    assert f'2 of {len(labels)} label files are missing in {root}/gtFine/train' in message
    assert labels[0] in message


def test_empty_split_fails_at_dataset_build_naming_the_directory(demo_cityscapes_data, tmp_path):
    from drn_mm.datasets import DataError
    root = _copy_data(demo_cityscapes_data, tmp_path)
    for path in glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png')):
        shutil.move(path, path + '.bak')
    with pytest.raises(DataError, match=f'no samples in {root}/leftImg8bit/train'):
        _train(root, tmp_path)


def test_good_split_trains(demo_cityscapes_data, tmp_path):
    assert len(_train(demo_cityscapes_data, tmp_path).train_dataloader.dataset) == 6


def _val_dataset(root):
    from mmengine.config import Config
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.val_dataloader.dataset.data_root = root
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg.val_dataloader.dataset)


def test_raw_label_ids_in_the_val_split_are_an_error_naming_the_file(demo_cityscapes_data,
                                                                     tmp_path):
    """labelIds (0..33) where labelTrainIds belong: the val pipeline refuses them (before, mmseg's
    unchecked loaders gave mIoU 0.38 instead of 27.7, exit 0)."""
    from drn_mm.datasets import DataError
    root = _copy_data(demo_cityscapes_data, tmp_path)
    good = _val_dataset(root)[0]['data_samples'].gt_sem_seg.data.unique().tolist()
    assert set(good) <= set(range(19)) | {255}  # the split as generated passes
    labels = sorted(glob.glob(osp.join(root, 'gtFine', 'val', '*', '*_labelTrainIds.png')))
    for path in labels:
        shutil.copy(path.replace('_labelTrainIds', '_labelIds'), path)
    with pytest.raises(DataError) as info:
        _val_dataset(root)[0]
    message = str(info.value)
    assert f'label map {labels[0]} has values' in message and 'outside the classes' in message
    assert 'valid: 0..18 and 255 (ignored)' in message


def test_check_seg_labels_passes_samples_without_labels():
    """mmseg's inference APIs drop LoadAnnotations: the check then has nothing to check."""
    from drn_mm.datasets import CheckSegLabels
    results = dict(img=np.zeros((4, 6, 3), np.uint8), ori_shape=(4, 6))
    assert CheckSegLabels(num_classes=19)(dict(results)) == results
    bad = dict(results, gt_seg_map=np.full((4, 6), 20, np.uint8), seg_map_path='x.png')
    with pytest.raises(Exception, match='label map x.png has values \\[20\\]'):
        CheckSegLabels(num_classes=19)(bad)
    with pytest.raises(ValueError, match='num_classes=0'):
        CheckSegLabels(num_classes=0)


@pytest.mark.parametrize('which', ['image', 'label'])
def test_a_cut_val_file_fails_when_the_loader_is_built_not_at_validation(
        demo_cityscapes_data, tmp_path, which):
    """Was: a cv2 error or an IndexError naming no file, after the first val_interval."""
    from drn_mm.datasets import DataError
    root = _copy_data(demo_cityscapes_data, tmp_path)
    pattern = ('leftImg8bit', '*.png') if which == 'image' else ('gtFine', '*_labelTrainIds.png')
    victim = sorted(glob.glob(osp.join(root, pattern[0], 'val', '*', pattern[1])))[1]
    data = open(victim, 'rb').read()
    with open(victim, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(DataError) as info:  # before the first training iteration
        _train(demo_cityscapes_data, tmp_path, val_root=root)
    assert not glob.glob(str(tmp_path / '*.pth'))
    message = str(info.value)
    assert f'1 file(s) are cut short: {victim} (PNG without its IEND chunk: truncated)' in message


@pytest.mark.slow
def test_corrupt_image_mid_training_names_it_and_keeps_the_last_checkpoint(
        demo_cityscapes_data, tmp_path):
    """Batch 2, no shuffle: iterations 1-2 read images 0-3 and save checkpoints, iteration 3
    meets the corrupt image 4 (damaged inside, whole at both ends: the build-time scan for cut
    files cannot see it, only decoding does)."""
    root = _copy_data(demo_cityscapes_data, tmp_path)
    images = sorted(glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png')))
    data = open(images[4], 'rb').read()
    third = len(data) // 3
    with open(images[4], 'wb') as f:
        f.write(data[:third] + bytes(third) + data[2 * third:])
    work = tmp_path / 'work'
    result = run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options',
                     *train_options(root, batch_size=2, max_iters=6, interval=1)), check=False)
    assert result.returncode != 0
    assert f'DataError: image {images[4]} is corrupt or truncated' in result.stderr
    assert 'Iter(train) [2/6]' in result.stdout + result.stderr
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip() == str(work / 'iter_2.pth')
    state = load_state(work / 'iter_2.pth')
    assert 'backbone.stem.0.weight' in state


# ----------------------------------------------------------------------------------------------
# Sizes: smaller than the crop, sides not multiples of 8, 2048x4096
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def tiny_segmentor():
    from drn_mm.apis import init_segmentor
    torch.manual_seed(0)
    model = init_segmentor(DEMO_CONFIG, cfg_options=dict(TINY_MODEL))
    model.init_weights()
    return model


def _write_pair(directory, name, height, width):
    image = rng().integers(0, 256, (height, width, 3), dtype=np.uint8)
    label = rng().integers(0, 19, (height, width), dtype=np.uint8)
    Image.fromarray(image).save(directory / f'{name}.png')
    Image.fromarray(label).save(directory / f'{name}_label.png')
    return dict(
        img_path=str(directory / f'{name}.png'), seg_map_path=str(directory / f'{name}_label.png'),
        seg_fields=[], reduce_zero_label=False, label_map=None)


def test_images_smaller_than_the_crop_and_odd_sides_train(tiny_segmentor, tmp_path):
    """The Cityscapes recipe's RandomCrop(896) keeps a smaller image whole; SegDataPreProcessor
    pads the batch to its largest image and a multiple of 8 (labels with 255, ignored)."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(osp.dirname(DEMO_CONFIG), '..', '_base_', 'datasets', 'cityscapes_drn-896x896.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        pipeline = Compose(cfg.train_pipeline)
    samples = [
        pipeline(_write_pair(tmp_path, 'a', 13, 21)),
        pipeline(_write_pair(tmp_path, 'b', 37, 9))
    ]
    assert [tuple(s['inputs'].shape[1:]) for s in samples] == [(13, 21), (37, 9)]
    model = tiny_segmentor.train()
    data = model.data_preprocessor(pseudo_collate(samples), training=True)
    assert tuple(data['inputs'].shape) == (2, 3, 40, 24)
    losses = model.loss(data['inputs'], data['data_samples'])
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    model.eval()


@pytest.mark.parametrize('height,width', [(61, 97), (1, 1), (8, 8), (17, 5)])
def test_inference_on_any_size_gives_a_label_per_pixel(tiny_segmentor, height, width):
    from mmseg.apis import inference_model
    image = rng().integers(0, 256, (height, width, 3), dtype=np.uint8)
    with torch.no_grad():
        result = inference_model(tiny_segmentor.eval(), image)
    assert tuple(result.pred_sem_seg.shape) == (height, width)


def _peak_rss_mb():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmHWM')) / 1024


def _rss_mb():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS')) / 1024


def test_huge_image_in_slide_mode_stays_within_memory(tmp_path):
    """2048x4096 in slide mode (1024 crops): the activations are one crop's; what grows with the
    image is mmseg's full-size maps (input, logit sums of num_classes + 1 channels, their padded
    copies), bounded here by 3 (num_classes + 1) + 10 float maps of the image."""
    from mmseg.apis import inference_model

    from drn_mm.apis import init_segmentor
    num_classes = 4
    model = init_segmentor(
        DEMO_CONFIG, cfg_options=dict(
            TINY_MODEL, **{
                'model.decode_head.num_classes': num_classes,
                'model.test_cfg': dict(mode='slide', crop_size=(1024, 1024), stride=(1024, 1024))
            }))
    path = tmp_path / 'huge.png'
    cv2.imwrite(str(path), rng().integers(0, 256, (2048, 4096, 3), dtype=np.uint8))
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # restart the peak-RSS count of this process
    except OSError:
        pytest.skip('cannot reset the peak RSS (/proc/self/clear_refs)')
    before = _rss_mb()
    with torch.no_grad():
        result = inference_model(model, str(path))
    peak = _peak_rss_mb() - before
    assert tuple(result.pred_sem_seg.shape) == (2048, 4096)
    map_mb = 2048 * 4096 * 4 / 2**20  # one float32 map of the image: 32 MiB
    print(f'2048x4096 slide: peak RSS +{peak:.0f} MiB ({peak / map_mb:.1f} float maps)')
    assert peak < 1024 and peak < (3 * (num_classes + 1) + 10) * map_mb


@pytest.mark.parametrize('kind', ['broken_link', 'directory'])
def test_images_that_are_no_files_fail_at_dataset_build(demo_cityscapes_data, tmp_path, kind):
    """A broken symlink or a folder named *.png: mmseg's listing skipped them silently."""
    import os

    from drn_mm.datasets import DataError
    root = _copy_data(demo_cityscapes_data, tmp_path)
    city = sorted(glob.glob(osp.join(root, 'leftImg8bit', 'train', '*')))[0]
    bad = osp.join(city, f'{osp.basename(city)}_000099_000019_leftImg8bit.png')
    if kind == 'broken_link':
        os.symlink(osp.join(tmp_path, 'gone.png'), bad)
    else:
        os.makedirs(bad)
    with pytest.raises(DataError) as info:
        _train(root, tmp_path)
    message = str(info.value)
    assert 'cannot be read and would silently leave the data set' in message and bad in message
    assert ('a broken link' if kind == 'broken_link' else 'a directory') in message


def test_jpeg_label_maps_are_refused_in_every_split(tmp_path):
    """Values in range, 15% of pixels changed at edges: only the format gives it away."""
    from drn_mm.datasets import CheckSegLabels, DataError
    label = np.zeros((32, 48), np.uint8)
    label[8:24, 10:30] = 13
    path = tmp_path / 'label.jpg'
    Image.fromarray(label).save(path, quality=75)
    with pytest.raises(DataError, match=f'label map {path} is a JPEG: lossy compression'):
        load_label(path, (32, 48))
    results = dict(
        gt_seg_map=np.asarray(Image.open(path)), seg_map_path=str(path), ori_shape=(32, 48))
    with pytest.raises(DataError, match='is a JPEG'):
        CheckSegLabels(num_classes=19)(results)


def test_an_exif_rotated_photo_with_an_upright_label_map_says_exif(tmp_path):
    """The rule: images are read turned upright by their EXIF tag (as mmcv reads them, in every
    loader and tool); label maps carry none. When that makes the sizes disagree, the error says so.
    """
    from drn_mm.datasets import DataError
    photo = tmp_path / 'photo.jpg'
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 40x24 (WxH), viewed 24x40
    Image.fromarray(rng().integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(photo, exif=exif)
    image = load_image(photo)
    assert image['img'].shape[:2] == (40, 24)  # turned upright
    label = tmp_path / 'label.png'
    Image.fromarray(np.zeros((24, 40), np.uint8)).save(label)  # drawn on the stored pixels
    from drn_mm.datasets import LoadCheckedAnnotations
    results = dict(
        seg_map_path=str(label), img_path=str(photo), ori_shape=(40, 24), img=image['img'],
        seg_fields=[], reduce_zero_label=False, label_map=None)
    with pytest.raises(DataError) as info:
        LoadCheckedAnnotations(num_classes=19)(results)
    message = str(info.value)
    assert 'is 40x24 (WxH) but its image' in message
    assert 'EXIF orientation 6 (a quarter turn): it is read turned upright' in message


def test_a_jpeg_with_damaged_scan_data_is_an_error_naming_it(tmp_path):
    """OpenCV decodes it into blocks of garbage with a warning on stderr only. (Damage libjpeg
    itself reports, here a bad Huffman code; scan data that decodes validly into other pixels
    cannot be told from a picture by any decoder.)"""
    import io

    from drn_mm.datasets import DataError
    buffer = io.BytesIO()
    pixels = (rng().random((64, 96, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(buffer, 'JPEG', quality=90)
    data = bytearray(buffer.getvalue())
    middle = (data.find(b'\xff\xda') + len(data)) // 2
    for i in range(middle, middle + 40):
        data[i] = 0xff if i % 2 else 0x00
    path = tmp_path / 'damaged.jpg'
    path.write_bytes(bytes(data))
    assert cv2.imread(str(path)) is not None  # what mmcv's loader accepts
    with pytest.raises(DataError, match=f'image {path} is corrupt or truncated .*broken data'):
        load_image(path)

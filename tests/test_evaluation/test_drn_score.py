"""The DRN score: exact to the authors' segment.py test (fixtures/reference_seg_eval.pt), every
protocol on generated Cityscapes-layout data, and clear errors for inputs it cannot use."""
import json
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import fixture_path
from mmengine.config import Config
from PIL import Image
from tool_runs import REPO, run, tool_command

from drn_mm.apis import init_segmentor
from drn_mm.evaluation.synthesis import (CITYSCAPES_ID_TO_TRAIN_ID, CITYSCAPES_MEAN, CITYSCAPES_STD,
                                         ScoreInputError, fast_hist, per_class_iou, resize_image,
                                         resize_label, resize_log_probabilities, score_images,
                                         segment)

#: float32 rounding bound for the log-probabilities: 64 eps32 x the largest |value| (the model's
#: ~20 layers of sums; the reference's own float32 output differs from a float64 run of the same
#: model by 1.4e-4 at |values| <= 197, i.e. ~12 eps; ours by 1.2e-4). A wrong normalization or
#: resize moves them by 1e-2 or more.
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope='module')
def reference():
    return torch.load(fixture_path('reference_seg_eval.pt'), weights_only=True)


@pytest.fixture(scope='module')
def reference_model(reference, tmp_path_factory):
    root = tmp_path_factory.mktemp('reference_model')
    torch.save(reference['state_dict'], root / 'tiny_authors.pth')  # their layout, as it is
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'drn', 'drn_d_22_cityscapes.py'))
    cfg.model.backbone.update(channels=list(reference['channels']), norm_cfg=dict(type='BN'))
    cfg.model.decode_head.update(in_channels=32, num_classes=reference['num_classes'],
                                 norm_cfg=dict(type='BN'))
    cfg.dump(str(root / 'tiny.py'))
    model = init_segmentor(str(root / 'tiny.py'), str(root / 'tiny_authors.pth'))
    return model, str(root / 'tiny.py'), str(root / 'tiny_authors.pth')


def test_reference_statistics_are_the_full_precision_ones(reference):
    assert list(CITYSCAPES_MEAN) == reference['mean'] and list(CITYSCAPES_STD) == reference['std']


@pytest.mark.parametrize('ms', [False, True])
def test_exact_to_the_authors_segment_py_test(reference, reference_model, ms):
    model = reference_model[0]
    logprob = torch.stack([segment(model, image.numpy(), ms=ms) for image in reference['images']])
    expected = reference['logprob_sum_ms' if ms else 'logprob_single']
    bound = 64 * EPS32 * float(expected.abs().max())
    assert float((logprob - expected).abs().max()) <= bound
    # every pixel: the smallest top-2 gap of the reference's maps (1.1e-3 single, 3.3e-3 ms) is
    # more than twice the deviation, so no pixel is a tie within the rounding seen here
    top2 = expected.topk(2, dim=1).values
    assert float((top2[:, 0] - top2[:, 1]).min()) > 2 * float((logprob - expected).abs().max())
    pred = logprob.argmax(1)
    assert torch.equal(pred, reference['pred_ms' if ms else 'pred_single'])
    hist = sum(
        fast_hist(label.numpy(), p.numpy(), reference['num_classes'])
        for label, p in zip(reference['labels'], pred))
    np.testing.assert_array_equal(hist, reference['hist_ms' if ms else 'hist_single'].numpy())
    miou = np.nanmean(per_class_iou(hist)) * 100
    assert miou == reference['miou_ms' if ms else 'miou_single']


def write_pairs(root, images, labels, label_suffix='_gtFine_labelTrainIds.png'):
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir(parents=True)
    for i, (image, label) in enumerate(zip(images, labels)):
        Image.fromarray(np.asarray(image)).save(root / 'images' / f'scene_{i:03d}_leftImg8bit.png')
        Image.fromarray(np.asarray(label)).save(root / 'labels' / f'scene_{i:03d}{label_suffix}')
    return str(root / 'images'), str(root / 'labels')


@pytest.mark.parametrize('ms', [False, True])
def test_files_through_score_images_give_the_reference_confusion_matrix(
        reference, reference_model, ms, tmp_path):
    """Any number of classes (5 here): label kind 'index', the reference's normalization."""
    images, labels = write_pairs(tmp_path, reference['images'].numpy(), reference['labels'].numpy(),
                                 '.png')
    result = score_images(reference_model[0], images, labels, protocol='full-res', ms=ms,
                          label_kind='index', normalization='reference')
    np.testing.assert_array_equal(result['confusion_matrix'],
                                  reference['hist_ms' if ms else 'hist_single'].numpy())
    assert result['mIoU'] == pytest.approx(reference['miou_ms' if ms else 'miou_single'], abs=0)
    assert result['num_classes'] == 5 and len(result['per_class_iou']) == 5


def test_resizing_is_pils():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 19, (37, 53), dtype=np.uint8)
    ours = resize_label(label, (16, 24))
    pil = np.asarray(Image.fromarray(label).resize((24, 16), Image.NEAREST))
    np.testing.assert_array_equal(ours, pil)
    t = torch.from_numpy(label)[None, None].float()
    exact = F.interpolate(t, size=(16, 24), mode='nearest-exact')[0, 0].byte().numpy()
    plain = F.interpolate(t, size=(16, 24), mode='nearest')[0, 0].byte().numpy()
    np.testing.assert_array_equal(ours, exact)  # 'nearest-exact' is PIL's nearest
    assert not np.array_equal(ours, plain)  # torch's 'nearest' is not
    image = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        resize_image(image, (74, 106)),
        np.asarray(Image.fromarray(image).resize((106, 74), Image.BICUBIC)))
    logprob = torch.from_numpy(rng.normal(size=(3, 37, 53)).astype(np.float32))
    resized = resize_log_probabilities(logprob, (74, 106))
    for c in range(3):
        pil = Image.fromarray(logprob[c].numpy(), mode='F').resize((106, 74), Image.BILINEAR)
        np.testing.assert_array_equal(resized[c].numpy(), np.asarray(pil))


def test_cityscapes_label_ids_map_to_train_ids():
    from cityscapesscripts.helpers.labels import labels
    for label in labels:
        if 0 <= label.id <= 33:
            expected = label.trainId if 0 <= label.trainId < 19 else 255
            assert CITYSCAPES_ID_TO_TRAIN_ID[label.id] == expected, label.name
    assert CITYSCAPES_ID_TO_TRAIN_ID[7] == 0 and CITYSCAPES_ID_TO_TRAIN_ID[33] == 18
    assert CITYSCAPES_ID_TO_TRAIN_ID[0] == 255 and CITYSCAPES_ID_TO_TRAIN_ID[255] == 255
    assert (CITYSCAPES_ID_TO_TRAIN_ID[34:] == 255).all()


# --- protocols on generated Cityscapes-layout data (the demo generator) ---


@pytest.fixture(scope='module')
def cityscapes_model(tmp_path_factory):
    """A tiny 19-class DRN-D with non-trivial BN statistics, saved in drn_mm's layout."""
    root = tmp_path_factory.mktemp('cs_model')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'drn', 'drn_d_22_cityscapes.py'))
    cfg.model.backbone.update(channels=[4, 8, 8, 8, 16, 16, 16, 16], norm_cfg=dict(type='BN'))
    cfg.model.decode_head.update(in_channels=16, norm_cfg=dict(type='BN'))
    cfg.dump(str(root / 'tiny19.py'))
    from drn_mm.apis import build_model
    model = build_model(cfg, seed=0)
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    torch.save({'state_dict': model.state_dict()}, root / 'tiny19.pth')
    return str(root / 'tiny19.py'), str(root / 'tiny19.pth')


@pytest.fixture(scope='module')
def generated(demo_cityscapes_data, tmp_path_factory):
    """'Generated' images: the demo val images bicubic-downsampled to half size (32x64), as a
    generator's output beside 64x128 label maps."""
    import glob
    root = tmp_path_factory.mktemp('generated')
    for path in sorted(
            glob.glob(osp.join(demo_cityscapes_data, 'leftImg8bit', 'val', '*', '*.png'))):
        Image.open(path).convert('RGB').resize((64, 32),
                                               Image.BICUBIC).save(root / osp.basename(path))
    return str(root), osp.join(demo_cityscapes_data, 'gtFine', 'val')


def test_every_protocol_runs_and_label_ids_equal_train_ids(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    ids_only = tmp_path / 'ids'
    shutil.copytree(labels, ids_only, ignore=shutil.ignore_patterns('*TrainIds.png', '*.json'))
    for protocol in ('native', 'upsample-image', 'upsample-logits'):
        by_train = score_images(model, images, labels, protocol=protocol)
        by_ids = score_images(model, images, str(ids_only), protocol=protocol)
        assert by_train['label_kind'] == 'trainIds' and by_ids['label_kind'] == 'labelIds'
        assert by_train['confusion_matrix'] == by_ids['confusion_matrix'], protocol
        size = [32, 64] if protocol != 'upsample-image' else [64, 128]
        assert by_train['num_images'] == 3 and sum(map(sum, by_train['confusion_matrix'])) == (
            3 * (64 * 128 if protocol != 'native' else 32 * 64)) * (1 - by_train['void_fraction'])
        assert by_train['image_size'] == [32, 64] and by_train['label_size'] == [64, 128]
        assert size  # the segmentation size is implied by the protocol (checked above)
        # acc_all counts the 255 pixels as wrong: acc_valid x (1 - void fraction)
        assert by_train['acc_all'] == pytest.approx(
            by_train['acc_valid'] * (1 - by_train['void_fraction']), rel=1e-12)


def test_batches_give_the_same_scores(cityscapes_model, generated):
    model = init_segmentor(*cityscapes_model)
    single = score_images(model, *generated, protocol='upsample-logits')
    batched = score_images(model, *generated, protocol='upsample-logits', batch_size=2)
    assert batched['confusion_matrix'] == single['confusion_matrix']
    assert batched['batch_size'] == 2


def test_native_downsamples_labels_with_pil_nearest(cityscapes_model, generated):
    """native == segmenting at 32x64 and scoring against PIL-nearest 32x64 labels, by hand."""
    import glob
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    result = score_images(model, images, labels, protocol='native')
    hist = np.zeros((19, 19), np.int64)
    for path in sorted(glob.glob(osp.join(images, '*.png'))):
        name = osp.basename(path).replace('_leftImg8bit.png', '_gtFine_labelTrainIds.png')
        label = np.asarray(Image.open(glob.glob(osp.join(labels, '*', name))[0]))
        small = np.asarray(Image.fromarray(label).resize((64, 32), Image.NEAREST))
        pred = segment(model, np.asarray(Image.open(path))).argmax(0).numpy()
        hist += fast_hist(small, pred, 19)
    assert result['confusion_matrix'] == hist.tolist()


def test_native_says_when_labels_were_upsampled_or_stretched(cityscapes_model, generated,
                                                             demo_cityscapes_data, tmp_path):
    """native resizes the labels to the images: downsampling full-size labels is the protocol and
    says nothing; images larger than their labels, or of another aspect ratio, are said in the
    report (was: resized without a word)."""
    import glob
    model = init_segmentor(*cityscapes_model)
    assert score_images(model, *generated, protocol='native')['warnings'] == []
    labels = osp.join(demo_cityscapes_data, 'gtFine', 'val')
    for size, words in (((256, 128), 'larger than their labels'), ((128, 128),
                                                                   'another aspect ratio')):
        folder = tmp_path / f'{size[0]}x{size[1]}'
        folder.mkdir()
        for path in sorted(
                glob.glob(osp.join(demo_cityscapes_data, 'leftImg8bit', 'val', '*', '*.png'))):
            Image.open(path).convert('RGB').resize(size,
                                                   Image.BICUBIC).save(folder / osp.basename(path))
        result = score_images(model, str(folder), labels, protocol='native')
        assert any(words in w for w in result['warnings']), result['warnings']


def test_real_mode_and_full_res(cityscapes_model, demo_cityscapes_data):
    model = init_segmentor(*cityscapes_model)
    images = osp.join(demo_cityscapes_data, 'leftImg8bit', 'val')
    labels = osp.join(demo_cityscapes_data, 'gtFine', 'val')
    full = score_images(model, images, labels, protocol='full-res')
    assert full['image_size'] == [64, 128]
    real = score_images(model, images, labels, protocol='native', real_size=(32, 64))
    assert real['image_size'] == [32, 64] and real['real_size'] == [32, 64]


def test_errors_name_the_files(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    # unpaired: one image too many
    extra = tmp_path / 'extra'
    shutil.copytree(images, extra)
    Image.new('RGB', (64, 32)).save(extra / 'lonely_000001_000019_leftImg8bit.png')
    with pytest.raises(
            ScoreInputError, match=r'1 image\(s\) without a label.*\n  image without '
            r'label: .*lonely_000001_000019_leftImg8bit\.png'):
        score_images(model, str(extra), labels)
    # unreadable
    broken = tmp_path / 'broken'
    shutil.copytree(images, broken)
    first = sorted(broken.iterdir())[0]
    first.write_bytes(b'not a png')
    with pytest.raises(ScoreInputError, match=rf'cannot read image .*{first.name}'):
        score_images(model, str(broken), labels)
    # another size than the others
    mixed = tmp_path / 'mixed'
    shutil.copytree(images, mixed)
    last = sorted(mixed.iterdir())[-1]
    Image.open(last).resize((60, 30)).save(last)
    with pytest.raises(ScoreInputError, match=rf'{last.name} is 60x30 .* one generator output'):
        score_images(model, str(mixed), labels)
    # full-res with generated (smaller) images
    with pytest.raises(ScoreInputError, match=r"full-res scores real images at the labels' size"):
        score_images(model, images, labels, protocol='full-res')


def test_a_model_that_is_not_a_19_class_cityscapes_model_is_refused(reference_model, generated):
    with pytest.raises(
            ScoreInputError, match=r'predicts 5 classes; Cityscapes trainIds need a '
            r'19-class Cityscapes model'):
        score_images(reference_model[0], *generated)


def test_the_tool_writes_json_and_markdown_naming_the_checkpoint(cityscapes_model, generated,
                                                                 tmp_path):
    config, checkpoint = cityscapes_model
    images, labels = generated
    result = run(
        tool_command('drn_score.py', '--images', images, '--labels', labels, '--checkpoint',
                     checkpoint, '--config', config, '--protocol', 'upsample-logits', '--ms',
                     '--out-json', tmp_path / 'o' / 's.json', '--out-md', tmp_path / 'o' / 's.md',
                     '--no-progress'))
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    saved = json.load(open(tmp_path / 'o' / 's.json'))
    assert saved['mIoU'] == summary['mIoU'] and saved['multi_scale'] is True
    import hashlib
    digest = hashlib.sha256(open(checkpoint, 'rb').read()).hexdigest()
    assert saved['checkpoint'] == dict(file='tiny19.pth', sha256=digest)
    markdown = open(tmp_path / 'o' / 's.md').read()
    assert '# DRN score: upsample-logits + ms' in markdown and digest in markdown
    assert '| traffic sign |' in markdown


def test_the_authors_files_choose_their_config(tmp_path):
    """drn_d_22_cityscapes.pth as it is (base.K / seg / up, module. prefix) -> drn_mm's D-22
    Cityscapes config, without --config."""
    from helpers import to_reference_seg_layout

    from drn_mm.apis import build_model, read_config
    from drn_mm.apis.synthesis import config_for_checkpoint

    # the metafile's config of drn_d_22_cityscapes (drn_d_22_cityscapes.py inherits it)
    config = osp.join(REPO, 'configs', 'drn', 'drnseg_drn-d-22_8xb4-23k_cityscapes-896x896.py')
    model = build_model(read_config(config))
    path = tmp_path / 'drn_d_22_cityscapes.pth'
    torch.save(to_reference_seg_layout(model.state_dict(), 'D'), path)
    assert osp.realpath(config_for_checkpoint(str(path))) == osp.realpath(config)


# --- the field's files as they are (issue: the DRN score as the field uses it) ---


def copy_labels(labels, out, ending, source='_gtFine_labelTrainIds.png'):
    """The demo's label maps of one kind under another name (``_gtFine_trainIds.png``: the
    authors' prepare_data.py)."""
    import glob
    out.mkdir(parents=True)
    for path in sorted(glob.glob(osp.join(labels, '*', '*' + source))):
        shutil.copy(path, out / osp.basename(path).replace(source, ending))
    return str(out)


def test_the_fields_label_names_pair(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    reference = score_images(model, images, labels, label_kind='trainIds')
    train_ids = copy_labels(labels, tmp_path / 'trainIds', '_gtFine_trainIds.png')
    result = score_images(model, images, train_ids)
    assert result['label_kind'] == 'trainIds' and result['num_images'] == 3
    assert result['confusion_matrix'] == reference['confusion_matrix']
    label_ids = score_images(model, images, labels, label_kind='labelIds')  # _gtFine_labelIds
    assert label_ids['confusion_matrix'] == reference['confusion_matrix']
    colour = tmp_path / 'colour'
    colour.mkdir()
    for path in sorted((tmp_path / 'trainIds').iterdir()):
        Image.new('RGB', (128, 64)).save(colour / path.name.replace('_trainIds', '_color'))
    with pytest.raises(
            ScoreInputError, match=r'only \*_color\.png files .*colour pictures of the '
            r'labels, not label maps.*_gtFine_labelIds\.png'):
        score_images(model, images, str(colour))


def index_named(images, out):
    """Outputs named by index (pix2pix), and the pairs file that maps them to the labels."""
    out.mkdir()
    names = sorted(p for p in os.listdir(images))
    lines = []
    for i, name in enumerate(names):
        shutil.copy(osp.join(images, name), out / f'{i}.png')
        city = name.split('_')[0]
        label = osp.join(city, name.replace('_leftImg8bit.png', '_gtFine_labelTrainIds.png'))
        lines.append(f'{i}.png {label}')
    return str(out), lines


def test_a_pairs_file_pairs_outputs_named_by_index(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    reference = score_images(model, images, labels, label_kind='trainIds')
    indexed, lines = index_named(images, tmp_path / 'indexed')
    with pytest.raises(ScoreInputError, match=r'paired by name .*--pairs FILE'):
        score_images(model, indexed, labels, label_kind='trainIds')
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('# generated -> label\n' + '\n'.join(lines) + '\n')
    result = score_images(model, indexed, labels, label_kind='trainIds', pairs_file=str(pairs))
    assert result['confusion_matrix'] == reference['confusion_matrix']
    # a label twice, an image left out: both listed
    bad = tmp_path / 'bad.txt'
    bad.write_text(f'{lines[0]}\n1.png {lines[0].split()[1]}\n')
    with pytest.raises(ScoreInputError) as error:
        score_images(model, indexed, labels, label_kind='trainIds', pairs_file=str(bad))
    message = str(error.value)
    assert re.search(r'image without label: .*indexed/2\.png', message), message
    assert re.search(r'paired more than once: .*_gtFine_labelTrainIds\.png', message), message
    assert re.search(r'label without image: .*_gtFine_labelTrainIds\.png', message), message
    missing = tmp_path / 'missing.txt'
    missing.write_text('\n'.join(lines) + '\n7.png nowhere.png\n')
    with pytest.raises(ScoreInputError, match=r'missing\.txt line 4: image .*7\.png does not '
                       r'exist'):
        score_images(model, indexed, labels, label_kind='trainIds', pairs_file=str(missing))


def test_acc_per_image_is_the_mean_of_each_images_accuracy(cityscapes_model, generated):
    """By hand: each image's prediction (the authors' single-scale test at the image's size)
    against its labels nearest-downsampled, 255 excluded, then the mean over images (VASIS)."""
    import glob
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    result = score_images(model, images, labels, label_kind='trainIds')
    accuracies = []
    for path in sorted(glob.glob(osp.join(images, '*.png'))):
        stem = osp.basename(path).replace('_leftImg8bit.png', '')
        label = np.asarray(
            Image.open(glob.glob(osp.join(labels, '*', stem + '_gtFine_labelTrainIds.png'))[0]))
        image = np.asarray(Image.open(path).convert('RGB'))
        label = np.asarray(Image.fromarray(label).resize(image.shape[1::-1], Image.NEAREST))
        pred = segment(model, image).argmax(0).numpy()
        valid = label != 255
        accuracies.append((pred[valid] == label[valid]).sum() / valid.sum())
    assert result['acc_per_image'] == pytest.approx(float(np.mean(accuracies)) * 100, abs=1e-9)
    assert 'VASIS' in result['metrics_printed_by']['acc_per_image']
    assert result['mIoU_2dp'] == round(result['mIoU'], 2)


def test_legacy_label_resizes_are_named_in_the_report(cityscapes_model, generated):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    nearest = score_images(model, images, labels, label_kind='trainIds')
    assert nearest['legacy_steps'] == []
    for method in ('bilinear-legacy', 'torch-nearest'):
        legacy = score_images(model, images, labels, label_kind='trainIds', label_resize=method)
        assert legacy['label_resize'] == method and len(legacy['legacy_steps']) == 1
        assert 'not the protocol to use for new numbers' in legacy['legacy_steps'][0]
        from drn_mm.evaluation.synthesis import markdown_report
        assert '**Legacy:**' in markdown_report(legacy)
    bilinear = score_images(model, images, labels, label_kind='trainIds',
                            label_resize='bilinear-legacy')
    assert bilinear['confusion_matrix'] != nearest['confusion_matrix']  # ids blended at edges
    with pytest.raises(ScoreInputError,
                       match='the upsample-logits protocol does not resize labels'):
        score_images(model, images, labels, protocol='upsample-logits',
                     label_resize='bilinear-legacy')


def test_index_labels_out_of_range_are_an_error_unless_asked(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    labels = copy_labels(labels, tmp_path / 'ids', '_gtFine_labelIds.png', '_gtFine_labelIds.png')
    with pytest.raises(
            ScoreInputError, match=r'_gtFine_labelIds\.png: values \[.*\] are not class '
            r'indices of the 19-class model .*--label-type labelIds.*--ignore-above'):
        score_images(model, images, labels, label_kind='index')  # labelIds taken as indices
    asked = score_images(model, images, labels, label_kind='index', ignore_above=18)
    assert asked['num_images'] == 3
    with pytest.raises(ScoreInputError, match='ignore_above=5 would ignore classes'):
        score_images(model, images, labels, label_kind='index', ignore_above=5)


def test_the_images_format_and_mode_are_recorded_and_warned(cityscapes_model, generated, tmp_path):
    model = init_segmentor(*cityscapes_model)
    images, labels = generated
    png = score_images(model, images, labels, label_kind='trainIds')
    assert png['image_formats'] == {'PNG RGB': 3} and png['warnings'] == []
    variants = {}
    for name, save in (('jpeg', lambda im, p: im.save(p.with_suffix('.jpg'), quality=90)),
                       ('gray', lambda im, p: im.convert('L').save(p)),
                       ('rgba', lambda im, p: im.convert('RGBA').save(p))):
        out = tmp_path / name
        out.mkdir()
        for path in sorted(os.listdir(images)):
            save(Image.open(osp.join(images, path)), out / path)
        variants[name] = score_images(model, str(out), labels, label_kind='trainIds')
    assert variants['jpeg']['image_formats'] == {'JPEG RGB': 3}
    assert re.search(r'3 of 3 images are JPEG', variants['jpeg']['warnings'][0])
    assert variants['gray']['image_formats'] == {'PNG L': 3}
    assert 'grayscale' in variants['gray']['warnings'][0]
    assert variants['rgba']['image_formats'] == {'PNG RGBA': 3}
    assert variants['rgba']['confusion_matrix'] == png['confusion_matrix']  # opaque: the same
    from drn_mm.evaluation.synthesis import markdown_report
    assert 'Image files: 3 JPEG RGB.' in markdown_report(variants['jpeg'])
    assert '**Warning:** 3 of 3 images are JPEG' in markdown_report(variants['jpeg'])
    # a non-opaque alpha: an error unless asked how to composite
    clear = tmp_path / 'clear'
    shutil.copytree(tmp_path / 'rgba', clear)
    first = sorted(clear.iterdir())[0]
    rgba = np.asarray(Image.open(first)).copy()
    rgba[:4, :4, 3] = 0
    Image.fromarray(rgba).save(first)
    with pytest.raises(
            ScoreInputError, match=rf'{first.name} is PNG RGBA with a non-opaque alpha '
            r'\(16 pixels\).*--alpha black or --alpha white'):
        score_images(model, str(clear), labels, label_kind='trainIds')
    black = score_images(model, str(clear), labels, label_kind='trainIds', alpha='black')
    assert black['image_formats'] == {'PNG RGBA': 2, 'PNG RGBA (composited on black)': 1}


def test_python_m_drn_mm_score_and_its_clear_errors(cityscapes_model, generated, tmp_path):
    import sys
    config, checkpoint = cityscapes_model
    images, labels = generated
    args = ['--images', images, '--labels', labels, '--checkpoint', checkpoint, '--no-progress']
    result = run([sys.executable, '-m', 'drn_mm.score', *args, '--config', config])
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary['num_images'] == 3 and summary['image_formats'] == {'PNG RGB': 3}
    assert summary['acc_per_image'] is not None
    # the tiny checkpoint fits no preset: without --config, an error that says what to pass
    failed = run([sys.executable, '-m', 'drn_mm.score', *args], check=False)
    assert failed.returncode == 2 and 'Traceback' not in failed.stderr
    assert re.search(r'tiny19\.pth: its backbone fits no DRN preset .*pass --config CONFIG',
                     failed.stderr), failed.stderr


def test_the_sensitivity_rows_change_one_choice_each(cityscapes_model, demo_cityscapes_data,
                                                     tmp_path):
    """drn_mm.analysis.score_sensitivity (tools/score_sensitivity.py): the base, then one row
    per choice, each equal to scoring that choice directly."""
    from drn_mm.analysis.score_sensitivity import sensitivity_markdown, sensitivity_rows
    model = init_segmentor(*cityscapes_model)
    real = osp.join(demo_cityscapes_data, 'leftImg8bit', 'val')
    labels = osp.join(demo_cityscapes_data, 'gtFine', 'val')
    rows = sensitivity_rows(model, real, labels, str(tmp_path), size=(32, 64),
                            label_kind='trainIds', bf16=False)
    settings = [(r['choice'], r['setting']) for r in rows]
    assert settings[0][0] == 'base' and rows[0]['delta_mIoU'] == 0
    assert ('label resize (native)', 'bilinear-legacy') in settings
    assert ('generated images saved as', 'JPEG quality 90') in settings
    assert ('multi-scale', '--ms') in settings and len(rows) == 17
    legacy = {r['setting']: r['legacy'] for r in rows if r['choice'] == 'label resize (native)'}
    assert legacy == {'nearest': False, 'torch-nearest': True, 'bilinear-legacy': True}
    ms = next(r for r in rows if r['setting'] == '--ms')
    direct = score_images(model, str(tmp_path / 'generated' / 'png'), labels, label_kind='trainIds',
                          ms=True)
    assert ms['mIoU'] == direct['mIoU']
    assert ms['delta_mIoU'] == pytest.approx(ms['mIoU'] - rows[0]['mIoU'])
    jpeg = next(r for r in rows if r['setting'] == 'JPEG quality 75')
    assert any('JPEG' in w for w in jpeg['warnings'])
    assert '| multi-scale | --ms |' in sensitivity_markdown(rows)

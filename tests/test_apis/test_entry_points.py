"""The authors' DRN files load correctly through every OpenMMLab entry point, not only drn_mm's,
named with drn_mm's ``drn://`` checkpoint scheme: mmengine's load_checkpoint, mmseg's init_model
and MMSegInferencer, mmpretrain's get_model and ImageClassificationInferencer. Named as plain
files there (mmengine reads them as they are: drn_mm changes none of its loaders), they are loud
errors naming that way, never a model with random weights. Files that do not fit, are truncated
or fail their checksum are errors naming them. (drn_mm's tools/test.py:
test_reference_cityscapes_checkpoint.py.)"""
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import fixture_path, named_by_sha
from mmengine.config import Config
from tool_runs import REPO

import drn_mm  # noqa: F401  (registers the drn:// scheme)
from drn_mm.models.backbones.drn_checkpoint import convert_drn_state_dict
from drn_mm.models.utils.checkpoint import (CheckpointMismatchError, ChecksumError,
                                            UnreadableCheckpointError)

#: what the DRN backbone's error names when mmengine hands it a file in the authors' layout
SEG_LAYOUT_USE_THE_SCHEME = r"the authors' Cityscapes layout .*drn://FILE"
CLS_LAYOUT_USE_THE_SCHEME = r"the authors' DRN-C / torchvision ImageNet layout .*drn://FILE"

SEG_CONFIG = osp.join(REPO, 'configs', 'drn', 'drn_d_22_cityscapes.py')
CLS_CONFIG = osp.join(REPO, 'configs', 'drn', 'drn-c-26_8xb32_in1k.py')


@pytest.fixture(scope='module')
def seg_reference():
    """The authors' Cityscapes layout (base.K / seg / up) of a tiny DRN-D, from their code."""
    return torch.load(fixture_path('reference_seg_eval.pt'), weights_only=True)


def seg_cfg(num_classes):
    cfg = Config.fromfile(SEG_CONFIG)
    cfg.model.backbone.channels = (4, 8, 16, 16, 32, 32, 32, 32)
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.decode_head.update(in_channels=32, num_classes=num_classes)
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    return cfg


@pytest.fixture(scope='module')
def seg_files(seg_reference, tmp_path_factory):
    """The fixture's file as the authors save it (``module.`` prefix), and a 19-class variant."""
    root = tmp_path_factory.mktemp('authors_seg')
    sd = {'module.' + k: v for k, v in seg_reference['state_dict'].items()}
    five = root / 'drn_d_tiny_5cls.pth'
    torch.save(sd, five)
    g = torch.Generator().manual_seed(0)
    sd19 = dict(sd)
    sd19['module.seg.weight'] = torch.randn(19, 32, 1, 1, generator=g)
    sd19['module.seg.bias'] = torch.randn(19, generator=g)
    sd19['module.up.weight'] = torch.zeros(19, 1, 16, 16)
    nineteen = root / 'drn_d_tiny_19cls.pth'
    torch.save(sd19, nineteen)
    return dict(five=str(five), nineteen=named_by_sha(str(nineteen), 'drn_d_tiny_19cls'))


def assert_weights_are(model, path):
    expected = convert_drn_state_dict(torch.load(path, weights_only=True))
    state = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(state[key].cpu(), value), key
    weights = [k for k in state if not k.endswith('num_batches_tracked')]
    assert sorted(weights) == sorted(k for k in expected if not k.endswith('num_batches_tracked'))


def build_seg(cfg):
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg.model)


def test_mmengine_load_checkpoint_converts_the_authors_seg_file(seg_files):
    from mmengine.runner import load_checkpoint
    model = build_seg(seg_cfg(5))
    checkpoint = load_checkpoint(model, 'drn://' + seg_files['five'], map_location='cpu')
    assert_weights_are(model, seg_files['five'])
    assert checkpoint['meta']['source_layout'] == 'reference_seg'
    # 5 classes: not a Cityscapes model; named generically (was: the 19 Cityscapes names)
    assert checkpoint['meta']['dataset_meta']['classes'] == tuple(f'class_{i}' for i in range(5))
    assert len(checkpoint['meta']['dataset_meta']['palette']) == 5


def test_a_plain_authors_file_through_mmengine_is_an_error_naming_the_scheme(seg_files):
    """mmengine reads the file as it is: the backbone finds no weights of its own and refuses,
    naming the layout and the way that works, before anything runs on random weights."""
    from mmengine.runner import load_checkpoint
    from mmseg.apis import init_model
    with pytest.raises(CheckpointMismatchError, match=SEG_LAYOUT_USE_THE_SCHEME):
        load_checkpoint(build_seg(seg_cfg(5)), seg_files['five'], map_location='cpu')
    with pytest.raises(CheckpointMismatchError, match=SEG_LAYOUT_USE_THE_SCHEME):
        init_model(seg_cfg(19), seg_files['nineteen'], device='cpu')


def test_mmseg_init_model_loads_the_authors_file_with_cityscapes_classes(seg_files):
    from mmseg.apis import init_model
    from mmseg.utils import get_classes
    model = init_model(seg_cfg(19), 'drn://' + seg_files['nineteen'], device='cpu')
    assert_weights_are(model, seg_files['nineteen'])
    assert list(model.dataset_meta['classes']) == list(get_classes('cityscapes'))


@pytest.mark.parametrize('by_name', [False, True])
def test_mmseg_inferencer_loads_the_authors_file_and_segments(seg_files, seg_reference, by_name):
    from mmseg.apis import MMSegInferencer

    from drn_mm.apis.hub import DRNSegInferencer
    if by_name:
        # the name resolves to the full-width D-22 config, which the tiny file does not fit
        with pytest.raises(CheckpointMismatchError, match=r"DRN\(arch='D-22'\)"):
            DRNSegInferencer('drn_d_22_cityscapes', weights=seg_files['nineteen'], device='cpu')
        with pytest.raises(ValueError, match='no weights: pass weights='):
            DRNSegInferencer(seg_cfg(19), device='cpu')
        # drn_mm's inferencer reads a plain file through the drn:// scheme
        inferencer = DRNSegInferencer(seg_cfg(19), weights=seg_files['nineteen'], device='cpu')
    else:
        with pytest.raises(CheckpointMismatchError, match=SEG_LAYOUT_USE_THE_SCHEME):
            MMSegInferencer(model=seg_cfg(19), weights=seg_files['nineteen'], device='cpu')
        inferencer = MMSegInferencer(
            model=seg_cfg(19), weights='drn://' + seg_files['nineteen'], device='cpu')
    assert_weights_are(inferencer.model, seg_files['nineteen'])
    image = seg_reference['images'][0].numpy()[:, :, ::-1].copy()  # BGR, as mmcv reads
    result = inferencer(image)
    assert result['predictions'].shape == image.shape[:2]
    assert int(np.max(result['predictions'])) < 19


def test_a_checkpoint_of_another_arch_is_an_error_naming_the_arch(tmp_path):
    from mmengine.runner import load_checkpoint

    from drn_mm import DRN
    from drn_mm.apis import init_segmentor
    from drn_mm.engine.checkpoint_hook import check_loaded_checkpoint
    from drn_mm.models.utils.checkpoint import load_checkpoint_file
    d38 = {'backbone.' + k: v for k, v in DRN(arch='D-38').state_dict().items()}
    path = tmp_path / 'drn_d_38_seg.pth'
    torch.save({'state_dict': d38}, path)
    model = build_seg(Config.fromfile(SEG_CONFIG))
    # mmengine's own loader decides by its strict: strict=True is its error (a non-strict load
    # skips and logs what does not fit, as the caller asked)
    with pytest.raises(RuntimeError, match='do not match exactly'):
        load_checkpoint(model, str(path), map_location='cpu', strict=True)
    # drn_mm's loads (and drn://, and every Runner's through DRNCheckpointHook) name the file
    # and the arch it fits, whatever the strictness
    for name in (str(path), 'drn://' + str(path)):
        with pytest.raises(
                CheckpointMismatchError, match=r'drn_d_38_seg\.pth.*DRN-D-38 checkpoint, '
                r'but the model is DRN-D-22'):
            init_segmentor(SEG_CONFIG, name)
    for whole in (True, False):
        with pytest.raises(
                CheckpointMismatchError, match=r'drn_d_38_seg\.pth.*DRN-D-38 checkpoint, '
                r'but the model is DRN-D-22'):
            check_loaded_checkpoint(model, load_checkpoint_file(str(path)), str(path), whole)


def test_a_file_without_backbone_weights_is_an_error_not_random_weights(tmp_path):
    """A torchvision-layout file (the authors' DRN-A) read as a whole model has no backbone.*
    keys: mmengine would warn and test a random backbone; drn_mm refuses, at any strictness."""
    from mmengine.runner import load_checkpoint

    from drn_mm.engine.checkpoint_hook import check_loaded_checkpoint
    from drn_mm.models.utils.checkpoint import load_checkpoint_file
    model = build_seg(Config.fromfile(SEG_CONFIG))
    path = tmp_path / 'resnet_like.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7), 'fc.weight': torch.zeros(10, 64)}, path)
    with pytest.raises(
            CheckpointMismatchError, match=r"the checkpoint holds no weights for "
            r"DRN\(arch='D-22'\).*random weights"):
        load_checkpoint(model, str(path), map_location='cpu')
    for whole in (True, False):  # not even a fine-tuning load_from: the backbone must load
        with pytest.raises(CheckpointMismatchError, match=r"resnet_like\.pth"):
            check_loaded_checkpoint(model, load_checkpoint_file(str(path)), str(path), whole)


def test_torchvision_layout_under_the_backbone_prefix_is_renamed():
    """conv1/bn1/layerN under ``backbone.`` (a torchvision file saved inside a model) load."""
    from drn_mm import DRN
    source = DRN(arch='A-18')
    renamed = {}
    for key, value in source.state_dict().items():
        key = key.replace('stem.0.', 'conv1.').replace('stem.1.', 'bn1.')
        renamed['backbone.' + key] = value
    renamed['backbone.fc.weight'] = torch.zeros(1000, 512)

    class Holder(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = DRN(arch='A-18')

    holder = Holder()
    holder.load_state_dict(renamed)
    for key, value in source.state_dict().items():
        assert torch.equal(holder.backbone.state_dict()[key], value), key


def test_a_truncated_file_is_an_error_naming_it(seg_files, tmp_path):
    from mmengine.runner import load_checkpoint

    from drn_mm.apis import load_model_checkpoint
    data = open(seg_files['five'], 'rb').read()
    path = tmp_path / 'truncated.pth'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(UnreadableCheckpointError, match=r'cannot read checkpoint .*truncated\.pth'):
        load_checkpoint(build_seg(seg_cfg(5)), 'drn://' + str(path), map_location='cpu')
    with pytest.raises(UnreadableCheckpointError, match=r'cannot read checkpoint .*truncated\.pth'):
        load_model_checkpoint(build_seg(seg_cfg(5)), str(path))


def test_the_sha256_in_the_name_is_checked(seg_files, tmp_path):
    from mmengine.runner import load_checkpoint

    from drn_mm.apis import load_model_checkpoint
    good = seg_files['nineteen']
    load_checkpoint(build_seg(seg_cfg(19)), 'drn://' + good, map_location='cpu')  # digest fits
    data = bytearray(open(good, 'rb').read())
    data[-100] ^= 0xFF  # one flipped byte, as a bad download
    bad = tmp_path / osp.basename(good)
    bad.write_bytes(bytes(data))
    digest = osp.basename(good).rsplit('-', 1)[1][:8]
    message = (rf'{osp.basename(good)}: its name says its SHA-256 starts with {digest}, but the '
               'file .* hashes to')
    with pytest.raises(ChecksumError, match=message):
        load_checkpoint(build_seg(seg_cfg(19)), 'drn://' + str(bad), map_location='cpu')
    with pytest.raises(ChecksumError, match=message):
        load_model_checkpoint(build_seg(seg_cfg(19)), str(bad))


def test_drn_scheme_names_a_zoo_model_or_says_what_it_takes():
    from drn_mm.apis.scheme import resolve_drn_uri
    assert resolve_drn_uri('drn://drn-c-26_3rdparty_in1k') == \
        'http://dl.yf.io/drn/drn_c_26-ddedf421.pth'
    assert resolve_drn_uri('drn://drn_d_22_cityscapes.pth').startswith('http')
    with pytest.raises(
            FileNotFoundError, match=r'drn://nothing\.pth: no such file, and '
            r"'nothing' is not a drn_mm model"):
        resolve_drn_uri('drn://nothing.pth')


# mmpretrain: the authors' ImageNet layout (conv1/bn1/layerN/fc) of a tiny DRN-C, from their code
CLS_KWARGS = dict(
    backbone=dict(channels=(4, 8, 16, 16, 32, 32, 32, 32)), head=dict(num_classes=10,
                                                                      in_channels=32))


@pytest.fixture(scope='module')
def cls_file(tiny_reference, tmp_path_factory):
    path = tmp_path_factory.mktemp('authors_cls') / 'drn_c_tiny.pth'
    torch.save(tiny_reference['models']['C-26']['state_dict'], path)
    return str(path)


def test_mmpretrain_get_model_loads_the_authors_imagenet_file(cls_file, tiny_reference):
    from mmpretrain import get_model
    with pytest.raises(CheckpointMismatchError, match=CLS_LAYOUT_USE_THE_SCHEME):
        get_model(CLS_CONFIG, pretrained=cls_file, **CLS_KWARGS)
    model = get_model(CLS_CONFIG, pretrained='drn://' + cls_file, **CLS_KWARGS)
    assert_weights_are(model, cls_file)
    entry = tiny_reference['models']['C-26']
    with torch.no_grad():
        feats = model.extract_feat(tiny_reference['input'])
    torch.testing.assert_close(feats[-1], entry['levels'][-1], rtol=1e-4, atol=1e-5)


def test_mmpretrain_lists_and_builds_drn_models_by_name(cls_file):
    from mmpretrain import get_model, list_models
    names = list_models('*drn*')
    assert 'drn-c-26_3rdparty_in1k' in names and 'drn-d-105_3rdparty_in1k' in names
    assert not [n for n in names if 'cityscapes' in n]  # segmenters are mmseg's
    model = get_model('drn-c-26_3rdparty_in1k', pretrained='drn://' + cls_file, **CLS_KWARGS)
    assert_weights_are(model, cls_file)


def test_mmpretrain_inferencer_by_name_with_the_authors_file(cls_file, tiny_reference):
    from mmengine.registry import DefaultScope
    from mmpretrain import ImageClassificationInferencer

    # mmpretrain's Inferencer builds its pipeline in the current default scope, which the mmseg
    # tests of this process left at 'mmseg' (a fresh process starts without one)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inferencer = ImageClassificationInferencer('drn-c-26_3rdparty_in1k',
                                                   pretrained='drn://' + cls_file, device='cpu',
                                                   **CLS_KWARGS)
        assert_weights_are(inferencer.model, cls_file)
        image = (tiny_reference['input'][0].permute(1, 2, 0).clamp(-2, 2) * 60 + 128).byte().numpy()
        result = inferencer(image)[0]
    assert 0 <= result['pred_label'] < 10


def test_published_checkpoints_carry_their_checksum(seg_files, tmp_path):
    from mmengine.runner import load_checkpoint

    from drn_mm.apis import publish_checkpoint
    from drn_mm.models.utils.checkpoint import check_sha256_name
    path = publish_checkpoint(seg_files['five'], str(tmp_path / 'out' / 'mine.pth'))
    assert osp.basename(path).startswith('mine-') and check_sha256_name(path)
    model = build_seg(seg_cfg(5))
    load_checkpoint(model, path, map_location='cpu')  # drn_mm's layout: plain mmengine reads it
    assert_weights_are(model, seg_files['five'])


def test_a_load_from_memory_is_not_named_after_an_earlier_file(seg_files):
    """A load from memory after a load from a file: the error of the second does not name the
    first file (a strict torch load of another arch is torch's own error now: the backbone's
    load hook renames keys and leaves the checking to the caller's strict)."""
    from mmengine.runner import load_checkpoint

    from drn_mm import DRN
    load_checkpoint(build_seg(seg_cfg(5)), 'drn://' + seg_files['five'], map_location='cpu')
    d38 = DRN(arch='D-38').state_dict()
    with pytest.raises(RuntimeError, match='Unexpected key') as info:
        DRN(arch='D-22').load_state_dict(d38)
    assert osp.basename(seg_files['five']) not in str(info.value)
    # strict=False means it: a key left out is reported, not refused
    d22 = DRN(arch='D-22').state_dict()
    del d22['layer8.0.weight']
    result = DRN(arch='D-22').load_state_dict(d22, strict=False)
    assert result.missing_keys == ['layer8.0.weight']


def test_checked_loads_honour_strict_and_revise_keys(seg_files, tmp_path):
    """drn_mm's checked load (load_into_model, and the check DRNCheckpointHook runs for every
    Runner): revise_keys applied to the file's keys before the layout is converted; strict=True
    refuses a head of another size, strict=False skips it and names it; the backbone loads
    completely either way."""
    from drn_mm.engine.checkpoint_hook import check_loaded_checkpoint
    from drn_mm.models.backbones.drn_checkpoint import load_into_model
    five = torch.load(seg_files['five'], weights_only=True)
    wrapped = tmp_path / 'wrapped.pth'  # the authors' keys under another prefix
    torch.save({k.replace('module.', 'model.', 1): v for k, v in five.items()}, wrapped)
    model = build_seg(seg_cfg(5))
    wrapped_sd = torch.load(wrapped, weights_only=True)
    with pytest.raises(CheckpointMismatchError, match=r'wrapped\.pth does not fit'):
        load_into_model(model, wrapped_sd, str(wrapped), strict=True)
    load_into_model(model, wrapped_sd, str(wrapped), strict=True, revise_keys=[(r'^model\.', '')])
    assert_weights_are(model, seg_files['five'])
    # a 19-class file into the 5-class model
    model = build_seg(seg_cfg(5))
    with pytest.raises(
            CheckpointMismatchError, match=r'drn_d_tiny_19cls-.*\.pth does not fit EncoderDecoder.*'
            r'decode_head\.conv_seg\.weight: checkpoint \[19, 32, 1, 1\] vs model '
            r'\[5, 32, 1, 1\]'):
        check_loaded_checkpoint(model, torch.load(seg_files['nineteen'], weights_only=True),
                                seg_files['nineteen'], whole=True)
    head_before = model.decode_head.conv_seg.weight.clone()
    skipped = load_into_model(model, torch.load(seg_files['nineteen'], weights_only=True),
                              source='nineteen', strict=False)
    assert skipped == [
        'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias', 'decode_head.up.weight'
    ]
    assert torch.equal(model.decode_head.conv_seg.weight, head_before)  # kept its init
    nineteen = convert_drn_state_dict(torch.load(seg_files['nineteen'], weights_only=True))
    for key, value in model.backbone.state_dict().items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(value, nineteen['backbone.' + key]), key


def test_drn_loads_are_logged_as_the_drn_backend(seg_files):
    """mmengine names a scheme's backend from its loader's name (was: "Loads checkpoint by ri
    backend")."""
    import logging

    from mmengine.logging import MMLogger
    from mmengine.runner import CheckpointLoader
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        CheckpointLoader.load_checkpoint('drn://' + seg_files['five'], logger='current')
    finally:
        logger.removeHandler(handler)
    assert any(m.startswith('Loads checkpoint by drn backend from path: drn://') for m in records)


def test_mmpretrain_get_model_pretrained_true_loads_the_authors_file(cls_file, tmp_path,
                                                                     monkeypatch):
    """get_model(NAME, pretrained=True): the metafile's Weights are drn://NAME, so mmpretrain's
    own flow reads the authors' file through drn_mm's scheme (was: the raw URL, then
    CheckpointMismatchError). The file comes from $DRN_MM_CHECKPOINTS, as a copy obtained
    elsewhere would (no network in tests); the same weights as loading it by path."""
    import shutil

    import torch.hub
    from mmpretrain import get_model

    import drn_mm.apis.scheme as scheme
    entries = scheme.model_index()
    entry = next(m for m in entries if m['Name'] == 'drn-c-26_3rdparty_in1k')
    assert entry['Weights'] == 'drn://drn-c-26_3rdparty_in1k'
    assert entry['Converted From']['Weights'] == 'http://dl.yf.io/drn/drn_c_26-ddedf421.pth'
    # the tiny stand-in cannot carry the real file's digits: the entry names it without them
    tiny = dict(entry, **{'Converted From': dict(Weights='http://dl.yf.io/drn/drn_c_tiny.pth')})
    monkeypatch.setattr(scheme, 'model_index', lambda: [tiny])
    copies = tmp_path / 'copies'
    copies.mkdir()
    shutil.copy(cls_file, copies / 'drn_c_tiny.pth')
    monkeypatch.setenv('DRN_MM_CHECKPOINTS', str(copies))

    def no_network(*args, **kwargs):
        raise AssertionError('downloaded although a copy was there')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_network)
    model = get_model('drn-c-26_3rdparty_in1k', pretrained=True, **CLS_KWARGS)
    assert_weights_are(model, cls_file)

"""Faults and bad input, injected as a demanding user meets them (the reliability issue's cases
not covered by a module of their own): each is refused with a message naming the file or the
value and what would be right, or handled without losing anything. The cases with modules of their
own: a skipped non-finite step (test_safety.py), two runs in one work dir and an 11-class head on
the 19-class data set (test_one_way_to_run.py), kills mid-save (test_crash_resume.py)."""
import argparse
import errno
import os

import numpy as np
import pytest
import torch
from tool_runs import DEMO_CONFIG, tiny_options

# ----------------------------------------------------------------------------------------------
# The DRN score
# ----------------------------------------------------------------------------------------------


def test_train_ids_labels_forced_as_label_ids_are_refused():
    """*_labelTrainIds.png given as --label-type labelIds (was: mIoU 1.83, exit 0): the files hold
    255, which no labelIds file holds."""
    from drn_mm.evaluation.synthesis.files import ScoreInputError, to_class_indices
    label = np.array([[0, 5, 18], [255, 7, 255]], np.uint8)
    with pytest.raises(ScoreInputError) as info:
        to_class_indices(label, 'labelIds', 'a_gtFine_labelTrainIds.png', 19)
    message = str(info.value)
    assert message.startswith('a_gtFine_labelTrainIds.png: values [255] are not Cityscapes '
                              'labelIds (0-33)')
    assert 'pass --label-type trainIds' in message
    # real labelIds pass, and map to train ids
    ids = np.array([[7, 8], [26, 0]], np.uint8)  # road, sidewalk, car, unlabeled
    assert to_class_indices(ids, 'labelIds', 'x_labelIds.png', 19).tolist() == [[0, 1], [13, 255]]


@pytest.mark.parametrize('argv,message', [
    (['--real', '0', '0'], 'argument --real: 0 is below 1'),
    (['--real', '-5', '10'], 'argument --real: -5 is below 1'),
    (['--real', '1', '1'], '--real 1 1: each side must be at least 8 pixels'),
    (['--real', '20000', '4000000'], 'for the image and its class maps, more than the'),
    (['--batch-size', '0'], 'argument --batch-size: 0 is below 1'),
    (['--batch-size', '-3'], 'argument --batch-size: -3 is below 1'),
    (['--limit', '-1'], 'argument --limit: -1 is below 1'),
])
def test_score_arguments_it_cannot_use_are_refused_up_front(argv, message, capsys):
    """Was: a PIL traceback (0 0, -5 10), a MemoryError inside PIL (20000 40000), a 1-pixel score
    (1 1), batch sizes 0 / -3 recorded, --limit -1 scoring 3 of 4 images."""
    from drn_mm.score import parse_args
    with pytest.raises(SystemExit) as info:
        parse_args(['--images', 'i', '--labels', 'l', '--checkpoint', 'c.pth', *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# Checkpoints and work dirs
# ----------------------------------------------------------------------------------------------


def test_a_pointer_of_binary_garbage_is_passed_over(tmp_path):
    """last_checkpoint holding binary garbage, then --resume (was: UnicodeDecodeError)."""
    from drn_mm.engine.checkpoint_hook import prepare_resume
    good = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {}}, good)
    (tmp_path / 'last_checkpoint').write_bytes(bytes(range(256)))
    assert prepare_resume(str(tmp_path)) == str(good)
    assert (tmp_path / 'last_checkpoint').read_text() == str(good)  # repaired for mmengine


def test_a_broken_link_as_newest_checkpoint_is_kept_as_said(tmp_path):
    from drn_mm.engine.checkpoint_hook import prepare_resume
    good = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {}}, good)
    os.symlink(tmp_path / 'gone.pth', tmp_path / 'iter_4.pth')
    assert prepare_resume(str(tmp_path)) == str(good)
    kept = tmp_path / 'iter_4.pth.unreadable'
    assert os.path.islink(kept) and not (tmp_path / 'iter_4.pth').exists()  # the link, renamed


def test_a_directory_or_a_broken_link_as_checkpoint_says_what_it_is(tmp_path):
    from drn_mm.models.utils.checkpoint import UnreadableCheckpointError, load_checkpoint_file
    with pytest.raises(UnreadableCheckpointError, match=f'{tmp_path} is a directory, not a '
                       'checkpoint file'):
        load_checkpoint_file(str(tmp_path))
    os.symlink(tmp_path / 'gone.pth', tmp_path / 'link.pth')
    with pytest.raises(UnreadableCheckpointError,
                       match=r'not found: .*link\.pth \(a broken link\)'):
        load_checkpoint_file(str(tmp_path / 'link.pth'))


def test_a_full_disk_at_start_names_the_work_dir(tmp_path, demo_cityscapes_data, monkeypatch):
    """Was: a bare 'OSError: No space left on device' from Config.dump."""
    from mmengine.config import Config

    from drn_mm.apis import DictAction, build_runner, load_config

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')

    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(['--cfg-options', *tiny_options(demo_cityscapes_data)])
    cfg = load_config(DEMO_CONFIG, work_dir=str(tmp_path / 'work'), cfg_options=options.cfg_options)
    monkeypatch.setattr(Config, 'dump', full)
    with pytest.raises(OSError) as info:
        build_runner(cfg)
    assert info.value.errno == errno.ENOSPC
    assert f'No space left on device while writing to the work dir {tmp_path / "work"}' in str(
        info.value)


def test_a_negative_crop_size_names_the_option():
    """Was: a bare AssertionError from mmseg's RandomCrop."""
    from drn_mm.apis import load_config
    with pytest.raises(ValueError) as info:
        load_config(
            DEMO_CONFIG, cfg_options={
                'train_dataloader.dataset.pipeline': [
                    dict(type='LoadCheckedImageFromFile'),
                    dict(type='RandomCrop', crop_size=(-64, 96))
                ]
            })
    assert ('train_dataloader.dataset.pipeline.1.crop_size=(-64, 96) (RandomCrop): a crop is '
            '(height, width), both at least 1 pixel') in str(info.value)


# ----------------------------------------------------------------------------------------------
# The authors' weights by URL: the server gone, a copy from elsewhere, a cached stand-in
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """torch hub's cache in tmp_path, and a download that fails as an unreachable server does."""
    import torch.hub

    def unreachable(url, dst, *args, **kwargs):
        open(dst, 'wb').close()  # a download starts a file before it fails
        raise OSError(f'<urlopen error [Errno 110] Connection timed out> ({url})')

    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', unreachable)
    monkeypatch.delenv('DRN_MM_CHECKPOINTS', raising=False)
    return tmp_path


def _tiny_d22_file(path):
    from drn_mm import DRN
    torch.save(DRN(arch='D-22', channels=(4, 8, 8, 8, 16, 16, 16, 16)).state_dict(), path)
    return path


def test_a_failed_download_says_where_a_copy_goes_and_a_copy_there_is_used(
        no_network, tmp_path, monkeypatch):
    from drn_mm.apis.scheme import load_from_drn
    from drn_mm.models.utils.checkpoint import CheckpointDownloadError, sha256_of
    url = 'http://dl.yf.io/drn/drn_d_22_cityscapes.pth'
    with pytest.raises(CheckpointDownloadError) as info:
        load_from_drn('drn://drn_d_22_cityscapes')  # a model name: its metafile Weights
    message = str(info.value)
    assert message.startswith(f'drn_d_22_cityscapes.pth: cannot download {url}')
    assert 'Connection timed out' in message and '$DRN_MM_CHECKPOINTS' in message
    assert str(tmp_path / 'hub' / 'checkpoints') in message
    assert 'loaded unverified, with a warning' in message  # no digits in this name
    assert not list((tmp_path / 'hub' / 'checkpoints').iterdir())  # no partial file left
    # a copy obtained elsewhere, in the documented folder: found before any download
    copies = tmp_path / 'copies'
    copies.mkdir()
    source = _tiny_d22_file(tmp_path / 'x.pth')
    named = copies / f'drn_d_22-{sha256_of(str(source))[:8]}.pth'
    os.replace(source, named)
    monkeypatch.setenv('DRN_MM_CHECKPOINTS', str(copies))
    checkpoint = load_from_drn(f'drn://http://dl.yf.io/drn/{named.name}')
    assert sorted(checkpoint) == sorted(torch.load(named, weights_only=True))  # that copy


def test_a_cached_stand_in_under_the_authors_hashed_name_is_refused(no_network, tmp_path):
    """Other bytes saved in the download cache as drn_d_22-4bd2f8ea.pth (was: loaded by
    drn://drn-d-22_3rdparty_in1k without a word)."""
    from drn_mm.apis.scheme import load_from_drn
    from drn_mm.models.utils.checkpoint import ChecksumError
    cache = tmp_path / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    _tiny_d22_file(cache / 'drn_d_22-4bd2f8ea.pth')
    with pytest.raises(
            ChecksumError, match=r'drn_d_22-4bd2f8ea\.pth: its name says its SHA-256 '
            r'starts with 4bd2f8ea, but the file .* hashes to'):
        load_from_drn('drn://drn-d-22_3rdparty_in1k')

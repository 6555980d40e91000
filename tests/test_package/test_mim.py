"""OpenMMLab packaging: the wheel ships configs, tools and the model index under drn_mm/.mim/,
and openmim finds them: `mim search drn_mm`, `mim train drn_mm CONFIG`, `mim test drn_mm ...`.

The wheel is built from this checkout and installed into a temporary folder placed first on
PYTHONPATH (what `pip install drn_mm` gives; openmim does not understand editable installs).
tools/setup_env.sh installs openmim without its dataset-download dependencies.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from tool_runs import REPO, tiny_options

MIM = osp.join(osp.dirname(sys.executable), 'mim')


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp('wheel')
    # built from a copy of the sources: a build writes build/ and egg-info beside setup.py
    source = root / 'src'
    shutil.copytree(
        REPO, source, symlinks=True,
        ignore=shutil.ignore_patterns('.venv', '.git', 'data', 'work_dirs', 'build', '*.egg-info',
                                      '.mim', '__pycache__', '.pytest_cache', '.hypothesis',
                                      'demo_out'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w',
        str(root / 'dist'),
        str(source)
    ], check=True, capture_output=True)
    wheel = next((root / 'dist').glob('drn_mm-*.whl'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target',
        str(root / 'site'),
        str(wheel)
    ], check=True, capture_output=True)
    return dict(wheel=str(wheel), site=str(root / 'site'))


def mim(installed, *args):
    assert osp.isfile(MIM), f'openmim is not installed in {sys.prefix}: run tools/setup_env.sh'
    env = dict(os.environ, PYTHONPATH=installed['site'])
    result = subprocess.run([MIM, *map(str, args)], capture_output=True, text=True, env=env,
                            cwd=str(osp.dirname(installed['site'])), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_the_wheel_ships_configs_tools_and_the_model_index(installed):
    names = set(zipfile.ZipFile(installed['wheel']).namelist())
    for path in ('drn_mm/.mim/model-index.yml', 'drn_mm/.mim/configs/drn/metafile.yaml',
                 'drn_mm/.mim/configs/drn/README.md',
                 'drn_mm/.mim/configs/drn/drn_d_22_cityscapes.py',
                 'drn_mm/.mim/configs/demo/drn_d_22_demo_cityscapes-128x256.py',
                 'drn_mm/.mim/tools/train.py', 'drn_mm/.mim/tools/test.py', 'drn_mm/doctor.py'):
        assert path in names, path


def test_mim_search_lists_drn_models(installed):
    out = mim(installed, 'search', 'drn_mm')
    for name in ('drn-c-26_3rdparty_in1k', 'drn-d-105_3rdparty_in1k', 'drn_d_22_cityscapes'):
        assert f'config id: {name}' in out, name


@pytest.mark.slow
def test_mim_train_then_test(installed, demo_cityscapes_data, tmp_path):
    options = tiny_options(demo_cityscapes_data)
    config = 'drn_d_22_demo_cityscapes-128x256.py'
    out = mim(installed, 'train', 'drn_mm', config, '--work-dir', tmp_path / 'work',
              '--cfg-options', *options)
    assert f"{installed['site']}/drn_mm/.mim/tools/train.py" in out  # the shipped tool ran
    checkpoint = tmp_path / 'work' / 'iter_4.pth'
    assert checkpoint.is_file()
    out = mim(installed, 'test', 'drn_mm', config, '--checkpoint', checkpoint, '--work-dir',
              tmp_path / 'test', '--cfg-options', *options)
    metrics = json.loads([line for line in out.splitlines() if line.startswith('{')][-1])
    assert 0.0 <= metrics['mIoU'] <= 100.0


@pytest.mark.slow
def test_mim_runs_mmseg_s_own_tools_on_drn_mm_configs(installed, demo_cityscapes_data, tmp_path):
    """`mim train mmseg` / `mim test mmseg` (mmseg's own tools, from the installed mmseg) on a
    drn_mm config: checkpoints torch reads weights-only, and the refusal drn_mm's tools give
    (DRNCheckpointHook comes with the config; the swap recipe through mmseg's tools:
    tests/test_engine/test_one_way_to_run.py)."""
    import torch
    env = dict(os.environ, PYTHONPATH=installed['site'])

    def mim_mmseg(*args):
        return subprocess.run([MIM, *map(str, args)], capture_output=True, text=True, env=env,
                              cwd=str(tmp_path), timeout=600)

    config = osp.join(REPO, 'configs', 'demo', 'drn_d_22_demo_cityscapes-128x256.py')
    options = tiny_options(demo_cityscapes_data)
    trained = mim_mmseg('train', 'mmseg', config, '--work-dir', tmp_path / 'work', '--cfg-options',
                        *options)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert 'mmseg/.mim/tools/train.py' in trained.stdout  # mmseg's own tool ran
    checkpoint = tmp_path / 'work' / 'iter_4.pth'
    torch.load(checkpoint, map_location='cpu', weights_only=True)
    refused = mim_mmseg('test', 'mmseg', config, '--checkpoint', checkpoint, '--work-dir',
                        tmp_path / 'five', '--cfg-options', *options,
                        'model.decode_head.num_classes=5')
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0 and f'{checkpoint} does not fit EncoderDecoder' in text
    assert 'mmseg/.mim/tools/test.py' in refused.stdout and 'Iter(test)' not in text

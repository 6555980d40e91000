"""One way to run: drn_mm's configs run on mmengine's own Runner, and every guarantee comes from
the config (DRNCheckpointHook), so mmseg's own tools/train.py and tools/test.py (from the installed
mmseg package), a user's Runner.from_cfg and drn_mm's tools give the same refusals, the same
metrics and checkpoints that torch's weights-only loader reads. The README's swap recipe (an mmseg
config with DRN as its backbone and the one documented line) too; and a checkpoint folder on a
registered non-local file backend."""
import glob
import json
import os
import os.path as osp
import sys

import mmseg
import pytest
import torch
from tool_runs import DEMO_CONFIG, REPO, run, run_tool, runner_log, tiny_options

MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')
SWAP_CONFIG = osp.join(REPO, 'configs', 'drn', 'pspnet_drn-d-38_4xb2-40k_cityscapes-512x1024.py')


def mmseg_tool(script, *args, check=True):
    return run([sys.executable, osp.join(MMSEG_TOOLS, script), *map(str, args)], check=check)


def test_drn_mm_registers_no_runner_and_its_configs_name_none():
    """No Runner subclass in drn_mm, nothing in mmengine's RUNNERS registry from drn_mm, no
    runner_type in configs/."""
    import inspect
    import pkgutil

    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    import drn_mm
    subclasses = []
    for info in pkgutil.walk_packages(drn_mm.__path__, 'drn_mm.'):
        if info.name.startswith(('drn_mm.benchmark', 'drn_mm.demo', 'drn_mm.analysis')):
            continue
        module = __import__(info.name, fromlist=['_'])
        subclasses += [
            f'{info.name}.{name}' for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, Runner) and obj is not Runner
        ]
    assert subclasses == []
    assert [n for n, cls in RUNNERS.module_dict.items()
            if cls.__module__.startswith('drn_mm')] == []
    configs = glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    assert configs and [c for c in configs if 'runner_type' in open(c).read()] == []


def test_every_drn_mm_config_builds_drn_mm_s_checkpoint_hook():
    """The guarantees travel in the config: every config of configs/ but the unchanged OpenMMLab
    baselines names DRNCheckpointHook as its checkpoint hook."""
    from mmengine.config import Config
    configs = [
        c for c in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if '/_base_/' not in c and '/baselines/' not in c
    ]
    assert len(configs) > 50
    wrong = {}
    for path in configs:
        cfg = Config.fromfile(path)
        kind = cfg.default_hooks.checkpoint.get('type')
        if kind != 'DRNCheckpointHook':
            wrong[osp.relpath(path, REPO)] = kind
    assert wrong == {}


@pytest.fixture(scope='module')
def trained(tmp_path_factory, demo_cityscapes_data):
    """A tiny demo run trained by mmseg's own tools/train.py (4 iterations)."""
    work = tmp_path_factory.mktemp('mmseg_train')
    result = mmseg_tool('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options',
                        *tiny_options(demo_cityscapes_data))
    return dict(work=work, checkpoint=work / 'iter_4.pth', out=result.stdout + result.stderr)


@pytest.mark.slow
def test_mmseg_train_py_writes_checkpoints_that_torch_reads_weights_only(trained):
    work = trained['work']
    assert sorted(osp.basename(p)
                  for p in glob.glob(str(work / '*.pth'))) == ['iter_2.pth', 'iter_4.pth']
    assert not [n for n in os.listdir(work) if '.tmp' in n]  # saved through a temporary name
    assert open(work / 'last_checkpoint').read().strip() == str(trained['checkpoint'])
    checkpoint = torch.load(trained['checkpoint'], map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 4 and 'message_hub' in checkpoint


@pytest.mark.slow
def test_mmseg_test_py_gives_drn_mm_s_metrics_and_refusals(trained, demo_cityscapes_data, tmp_path):
    options = tiny_options(demo_cityscapes_data)
    ours = run_tool('test.py', DEMO_CONFIG, trained['checkpoint'], '--work-dir', tmp_path / 'a',
                    '--cfg-options', *options)
    metrics = json.loads(ours.stdout.strip().splitlines()[-1])
    theirs = mmseg_tool('test.py', DEMO_CONFIG, trained['checkpoint'], '--work-dir', tmp_path / 'b',
                        '--cfg-options', *options)
    line = [ln for ln in (theirs.stdout + theirs.stderr).splitlines() if 'Iter(test)' in ln][-1]
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert f'{key}: {metrics[key]:.4f}' in line, (key, line)

    # a head of another size than the checkpoint's: refused, naming the file, the keys and both
    # sizes; no metric (was: exit 0, mIoU 6.14 from a random head)
    for tool in ('drn_mm', 'mmseg'):
        args = (DEMO_CONFIG, trained['checkpoint'], '--work-dir', tmp_path / f'five_{tool}',
                '--cfg-options', *options, 'model.decode_head.num_classes=5')
        result = run_tool('test.py', *args, check=False) if tool == 'drn_mm' else mmseg_tool(
            'test.py', *args, check=False)
        assert result.returncode != 0, tool
        assert (f'{trained["checkpoint"]} does not fit EncoderDecoder' in result.stderr
                and 'decode_head.conv_seg.weight: checkpoint [19, 16, 1, 1] vs model '
                '[5, 16, 1, 1]' in result.stderr), (tool, result.stderr[-2000:])
        assert 'Iter(test)' not in result.stdout + result.stderr and 'mIoU:' not in result.stdout

    # an 11-class head with an 11-class checkpoint on the 19-class data set: refused, naming
    # both counts (was: exit 0, mIoU 21.18)
    state = torch.load(trained['checkpoint'], map_location='cpu', weights_only=True)
    for key in ('decode_head.conv_seg.weight', 'decode_head.conv_seg.bias',
                'decode_head.up.weight'):
        state['state_dict'][key] = state['state_dict'][key][:11].clone()
    eleven = tmp_path / 'eleven.pth'
    torch.save(dict(state_dict=state['state_dict'], meta=state['meta']), eleven)
    result = mmseg_tool('test.py', DEMO_CONFIG, eleven, '--work-dir', tmp_path / 'eleven',
                        '--cfg-options', *options, 'model.decode_head.num_classes=11', check=False)
    assert result.returncode != 0
    assert ('model.decode_head.num_classes=11 but the test data set (CityscapesDataset) declares '
            '19 classes') in result.stderr
    assert 'Iter(test)' not in result.stdout + result.stderr


@pytest.mark.slow
def test_show_dir_draws_every_test_image_under_mmseg_s_test_py(trained, demo_cityscapes_data,
                                                               tmp_path):
    """The demo config draws about 8 pictures per pass; --show-dir asks for every image (was:
    6 of 20 under mmseg's test.py)."""
    options = tiny_options(demo_cityscapes_data)
    mmseg_tool('test.py', DEMO_CONFIG, trained['checkpoint'], '--work-dir', tmp_path / 'w',
               '--show-dir', tmp_path / 'show', '--cfg-options', *options,
               'default_hooks.visualization.max_images=1')
    drawn = glob.glob(str(tmp_path / 'show' / '**' / '*.png'), recursive=True)
    images = glob.glob(osp.join(demo_cityscapes_data, 'leftImg8bit', 'val', '*', '*.png'))
    assert len(images) == 3 and len(drawn) == len(images), drawn


def _swap_options(data_root, max_iters=2):
    """The README's swap recipe (mmseg's PSPNet config, DRN-D-38 as its backbone) shrunk to the
    tiny generated data: narrow DRN, small crops, mmseg's own Cityscapes pipelines."""
    return [
        'model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.backbone.norm_cfg.type=BN',
        'model.decode_head.in_channels=16', 'model.decode_head.channels=8',
        'model.decode_head.norm_cfg.type=BN', 'model.auxiliary_head.in_channels=16',
        'model.auxiliary_head.channels=8', 'model.auxiliary_head.norm_cfg.type=BN',
        'model.data_preprocessor.size=[64,128]',
        'train_dataloader.dataset.pipeline.2.scale=(128,64)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,128)',
        'val_dataloader.dataset.pipeline.1.scale=(128,64)',
        'test_dataloader.dataset.pipeline.1.scale=(128,64)', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}', f'default_hooks.checkpoint.interval={max_iters}',
        'default_hooks.logger.interval=1', f'param_scheduler.0.end={max_iters}'
    ]


@pytest.mark.slow
def test_the_swap_recipe_under_mmseg_s_tools(demo_cityscapes_data, tmp_path):
    """Trained with mmseg's train.py, its checkpoint is read by mmseg's test.py and drn_mm's
    (was: UnpicklingError ... HistoryBuffer in both), and a head of another size is refused."""
    options = _swap_options(demo_cityscapes_data)
    mmseg_tool('train.py', SWAP_CONFIG, '--work-dir', tmp_path / 'work', '--cfg-options', *options)
    checkpoint = tmp_path / 'work' / 'iter_2.pth'
    torch.load(checkpoint, map_location='cpu', weights_only=True)
    result = mmseg_tool('test.py', SWAP_CONFIG, checkpoint, '--work-dir', tmp_path / 'test',
                        '--cfg-options', *options)
    assert 'Iter(test)' in result.stdout + result.stderr
    ours = run_tool('test.py', SWAP_CONFIG, checkpoint, '--work-dir', tmp_path / 'ours',
                    '--cfg-options', *options)
    assert 'mIoU' in json.loads(ours.stdout.strip().splitlines()[-1])
    refused = mmseg_tool('test.py', SWAP_CONFIG, checkpoint, '--work-dir', tmp_path / 'five',
                         '--cfg-options', *options, 'model.decode_head.num_classes=5', check=False)
    assert refused.returncode != 0 and f'{checkpoint} does not fit' in refused.stderr
    assert 'Iter(test)' not in refused.stdout + refused.stderr


# ----------------------------------------------------------------------------------------------
# A checkpoint folder on a registered non-local file backend (out_dir='mem://...')
# ----------------------------------------------------------------------------------------------


def _memory_backend():
    from mmengine.fileio import register_backend
    from mmengine.fileio.backends import BaseStorageBackend, backends

    class MemoryBackend(BaseStorageBackend):
        """Files in a dict, under mem:// paths."""
        files = {}

        def get(self, filepath):
            return self.files[str(filepath)]

        def get_text(self, filepath, encoding='utf-8'):
            return self.files[str(filepath)].decode(encoding)

        def put(self, obj, filepath):
            self.files[str(filepath)] = bytes(obj)

        def put_text(self, obj, filepath, encoding='utf-8'):
            self.put(obj.encode(encoding), filepath)

        def exists(self, filepath):
            return self.isfile(filepath) or self.isdir(filepath)

        def isfile(self, filepath):
            return str(filepath) in self.files

        def isdir(self, filepath):
            prefix = str(filepath).rstrip('/') + '/'
            return any(k.startswith(prefix) for k in self.files)

        def join_path(self, filepath, *more):
            return '/'.join([str(filepath).rstrip('/')] + [m.strip('/') for m in more])

        def remove(self, filepath):
            del self.files[str(filepath)]

    if 'drn_mm_test_mem' not in backends:
        from mmengine.fileio import FileClient
        register_backend('drn_mm_test_mem', MemoryBackend, prefixes='mem')
        # CheckpointHook still asks mmengine's deprecated FileClient for the prefix too
        FileClient.register_backend('drn_mm_test_mem', MemoryBackend, prefixes='mem')
    return backends['drn_mm_test_mem']


def test_a_non_local_out_dir_keeps_mmengine_s_save(tmp_path, demo_cityscapes_data):
    """mmengine's own save on a registered backend: every checkpoint under its name, the pointer
    naming one that exists, nothing left under a temporary name, no local 'mem:' folder (was:
    the file stayed under its temporary name and a local folder mem:/ appeared)."""
    from drn_mm.apis import DictAction, load_config, train
    memory = _memory_backend()
    memory.files.clear()
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = tiny_options(demo_cityscapes_data) + [
        'default_hooks.checkpoint.out_dir=mem://ckpts', 'default_hooks.checkpoint.max_keep_ckpts=1'
    ]
    cfg = load_config(DEMO_CONFIG, work_dir=str(tmp_path / 'work'),
                      cfg_options=parser.parse_args(['--cfg-options', *options]).cfg_options)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # where a wrong local write of 'mem://' would land
    try:
        train(cfg)
    finally:
        os.chdir(cwd)
    assert sorted(memory.files) == ['mem://ckpts/work/iter_4.pth']  # max_keep_ckpts=1
    pointer = open(tmp_path / 'work' / 'last_checkpoint').read().strip()
    assert pointer == 'mem://ckpts/work/iter_4.pth' and pointer in memory.files
    assert not glob.glob(str(tmp_path / 'mem*')) and not glob.glob(
        str(tmp_path / '**' / '*.tmp*'), recursive=True)
    import io
    checkpoint = torch.load(io.BytesIO(memory.files[pointer]), weights_only=True)
    assert checkpoint['meta']['iter'] == 4


# ----------------------------------------------------------------------------------------------
# Features in level order, whatever the order of out_indices
# ----------------------------------------------------------------------------------------------


def test_out_indices_give_features_in_level_order():
    from drn_mm import DRN
    model = DRN(arch='D-22', channels=(4, 8, 8, 8, 16, 16, 16, 32), out_indices=(7, 3)).eval()
    assert model.out_indices == (3, 7) and model.out_channels == (8, 32)
    with torch.no_grad():
        feats = model(torch.randn(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [8, 32]  # level 4, then level 8
    with pytest.raises(
            ValueError, match=r'out_indices=\(3, 3\) names level index\(es\) \[3\] '
            'more than once'):
        DRN(arch='D-22', out_indices=(3, 3))
    with pytest.raises(ValueError, match='more than once'):
        DRN(arch='D-22', out_indices=(7, -1))  # -1 is level index 7 too


def test_the_head_check_agrees_with_the_feature_order():
    """A head at in_index=0 reading level 4 of out_indices=(7, 3) (was: refused, the check and
    forward() disagreeing on the order)."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from drn_mm.models.checks import check_head_channels
    cfg = dict(
        type='EncoderDecoder',
        backbone=dict(type='DRN', arch='D-22', channels=(4, 8, 8, 8, 16, 16, 16, 32),
                      out_indices=(7, 3)),
        decode_head=dict(type='FCNHead', in_channels=8, in_index=0, channels=4, num_convs=1,
                         num_classes=3, norm_cfg=dict(type='BN')))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
    check_head_channels(model)  # fits: level 4 has 8 channels
    with torch.no_grad():
        out = model(torch.randn(1, 3, 32, 32), mode='tensor')
    assert out.shape[1] == 3


# ----------------------------------------------------------------------------------------------
# A work dir belongs to one training run
# ----------------------------------------------------------------------------------------------


def _tiny_train(work, data_root):
    import argparse

    from drn_mm.apis import DictAction, load_config, train
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(['--cfg-options', *tiny_options(data_root)]).cfg_options
    return train(load_config(DEMO_CONFIG, work_dir=str(work), cfg_options=options))


def test_a_second_run_into_a_held_work_dir_is_refused(tmp_path, demo_cityscapes_data):
    """Two trainings into one work dir (was: both exit 0, the second overwriting the first's
    checkpoints): the second refuses, naming the work dir and the run holding it."""
    import socket
    import subprocess

    from drn_mm.engine.checkpoint_hook import CLAIM
    holder = subprocess.Popen(['sleep', '60'])  # stands in for a live training process
    try:
        work = tmp_path / 'work'
        work.mkdir()
        (work / CLAIM).write_text(
            json.dumps(
                dict(host=socket.gethostname(), pid=holder.pid, config='first.py',
                     started='2026-12-05 10:00:00')))
        with pytest.raises(RuntimeError) as info:
            _tiny_train(work, demo_cityscapes_data)
        message = str(info.value)
        assert f'work dir {work} is in use by another training run (pid {holder.pid}' in message
        assert 'config first.py' in message
        assert not list(work.glob('*.pth'))
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (a crashed run): its claim does not block the next run
    runner = _tiny_train(work, demo_cityscapes_data)
    assert (work / 'iter_4.pth').exists() and not (work / CLAIM).exists()  # released at the end
    assert 'is gone; taking the work dir over' in runner_log(runner)

import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'drn_d_22_demo_cityscapes-128x256.py')
#: a tiny DRN-D-22 and a short schedule on the tiny generated data
TINY = ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1']


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory):
    """A tiny Cityscapes-layout dataset (6 train, 3 val images of 64x128)."""
    from drn_mm.datasets import generate_demo_cityscapes
    root = tmp_path_factory.mktemp('data') / 'cityscapes'
    generate_demo_cityscapes(str(root), num_train=6, num_val=3, size=(64, 128), seed=1)
    return str(root)


def tiny_options(data_root, max_iters=4, checkpoint_interval=2):
    return TINY + [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}',
        f'param_scheduler.1.end={max_iters}', 'param_scheduler.0.end=1',
        'param_scheduler.1.begin=1',
        f'default_hooks.checkpoint.interval={checkpoint_interval}']


def run_tool(script, *args, check=True):
    result = subprocess.run([sys.executable, osp.join(REPO, 'tools', script), *map(str, args)],
                            capture_output=True, text=True, cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(f'{script} failed ({result.returncode}):\n{result.stdout[-3000:]}\n'
                             f'{result.stderr[-5000:]}')
    return result

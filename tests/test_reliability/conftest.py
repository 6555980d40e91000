import pytest

from reliability_utils import DEMO_CONFIG, run, tool_command, train_options


@pytest.fixture(scope='session')
def reliability_data(tmp_path_factory):
    """A tiny Cityscapes-layout dataset (6 train, 3 val images of 64x128)."""
    from drn_mm.datasets import generate_demo_cityscapes
    root = tmp_path_factory.mktemp('reliability_data') / 'cityscapes'
    generate_demo_cityscapes(str(root), num_train=6, num_val=3, size=(64, 128), seed=1)
    return str(root)


@pytest.fixture(scope='session')
def reference_run(tmp_path_factory, reliability_data):
    """One uninterrupted single-process run (batch 4, SyncBN reverted to BN): the baseline of the
    2-process and the kill-and-resume runs."""
    work = tmp_path_factory.mktemp('reference')
    run(tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options',
                     *train_options(reliability_data)))
    return str(work)

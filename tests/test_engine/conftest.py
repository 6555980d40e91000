import pytest
from tool_runs import DEMO_CONFIG, run, tool_command, train_options


@pytest.fixture(scope='session')
def reference_run(tmp_path_factory, demo_cityscapes_data):
    """One uninterrupted single-process run (batch 4, SyncBN reverted to BN): the baseline of the
    2-process and the kill-and-resume runs."""
    work = tmp_path_factory.mktemp('reference')
    run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options',
                     *train_options(demo_cityscapes_data)))
    return str(work)

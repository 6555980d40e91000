"""Crash and resume: SIGKILL mid-run, a kill while a checkpoint is written, a cut or stale
``last_checkpoint``, and checkpoints that are corrupt, truncated or of another model."""
import argparse
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from tool_runs import (DEMO_CONFIG, MAX_ITERS, compare_weights, load_state, run, runner_log,
                       tool_command, train_options)

#: a kill in the middle of a checkpoint write: the first checkpoint the process saves is written
#: whole to the temporary name DRNCheckpointHook's local backend writes to, cut to half its bytes,
#: and the process SIGKILLs itself before the rename
DIE_WHILE_SAVING = '''
import os, runpy, signal, sys
import drn_mm.engine.file_backend as file_backend

atomic_write = file_backend.atomic_write

def write_half_then_die(path, write):
    def half(tmp):
        write(tmp)
        with open(tmp, 'r+b') as f:
            f.truncate(os.path.getsize(tmp) // 2)
            f.flush()
            os.fsync(f.fileno())
        print('KILLED WHILE WRITING', path, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    atomic_write(path, half)

file_backend.atomic_write = write_half_then_die
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def steps(work):
    return sorted(
        int(n[5:-4]) for n in os.listdir(work) if n.startswith('iter_') and n.endswith('.pth'))


def pointer(work):
    with open(osp.join(work, 'last_checkpoint')) as f:
        return f.read().strip()


@pytest.fixture(scope='module')
def crash_chain(tmp_path_factory, demo_cityscapes_data):
    """1) kill -9 a run as soon as its first checkpoint exists; 2) --resume, killed while writing
    its next checkpoint; 3) --resume to the end. max_keep_ckpts=1: mmengine's own hook would delete
    the only checkpoint before writing the next one."""
    work = str(tmp_path_factory.mktemp('crash'))
    options = train_options(demo_cityscapes_data, keep=1)
    chain = {}
    with open(osp.join(work, 'run1.out'), 'w') as out:
        proc = subprocess.Popen(
            tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options', *options),
            stdout=out, stderr=subprocess.STDOUT, cwd=osp.dirname(osp.dirname(DEMO_CONFIG)))
        deadline = time.time() + 300
        while proc.poll() is None and not steps(work) and time.time() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        chain['run1_rc'] = proc.wait(60)
    chain['run1_steps'] = steps(work)

    script = osp.join(work, 'die_while_saving.py')
    with open(script, 'w') as f:
        f.write(DIE_WHILE_SAVING)
    run2 = run([
        sys.executable, script, *tool_command('train.py', DEMO_CONFIG)[1:], '--work-dir', work,
        '--resume', '--cfg-options', *options
    ], check=False)
    chain.update(run2=run2, run2_steps=steps(work), run2_pointer=pointer(work),
                 run2_files=sorted(os.listdir(work)))
    chain['run3'] = run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--resume', '--cfg-options',
                     *options))
    chain['work'] = work
    return chain


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(crash_chain, reference_run):
    assert crash_chain['run1_rc'] == -signal.SIGKILL, 'the run ended before it could be killed'
    killed_at = crash_chain['run1_steps'][-1]
    assert killed_at < MAX_ITERS
    work = crash_chain['work']
    text = crash_chain['run3'].stdout + crash_chain['run3'].stderr
    assert f'Auto resumed from the latest checkpoint {work}/iter_{killed_at}.pth' in text
    assert f'Iter(train) [{killed_at + 1}/{MAX_ITERS}]' in text
    assert f'Iter(train) [1/{MAX_ITERS}]' not in text
    final = f'iter_{MAX_ITERS}.pth'
    # equal up to float rounding: |w - w_uninterrupted| <= 1e-7 + 1e-6 |w_uninterrupted|
    ratio, key, max_abs = compare_weights(
        load_state(osp.join(reference_run, final)), load_state(osp.join(work, final)), 1e-6, 1e-7)
    print(f'killed twice and resumed vs uninterrupted: weights max |diff| {max_abs:.1e}')
    assert ratio <= 1, (ratio, key, max_abs)


@pytest.mark.slow
def test_kill_while_writing_a_checkpoint_keeps_the_last_good_one(crash_chain):
    run2, work = crash_chain['run2'], crash_chain['work']
    assert run2.returncode == -signal.SIGKILL and 'KILLED WHILE WRITING' in run2.stdout
    last_good = crash_chain['run1_steps'][-1]
    # the cut file is under its temporary name; the last good checkpoint was neither replaced
    # nor deleted (max_keep_ckpts=1) and last_checkpoint still names it
    partial = [
        n for n in crash_chain['run2_files'] if n.startswith(f'.iter_{last_good + 2}.pth.tmp')
    ]
    assert len(partial) == 1, crash_chain['run2_files']
    assert crash_chain['run2_steps'] == [last_good]
    assert crash_chain['run2_pointer'] == osp.join(work, f'iter_{last_good}.pth')
    # --resume continued from it, cleared the partial file, and kept one checkpoint as configured
    text = crash_chain['run3'].stdout + crash_chain['run3'].stderr
    assert f'removed {work}/{partial[0]}: a checkpoint save cut short' in text
    assert steps(work) == [MAX_ITERS] and pointer(work) == osp.join(work, f'iter_{MAX_ITERS}.pth')
    assert not [n for n in os.listdir(work) if '.tmp' in n]


# ----------------------------------------------------------------------------------------------
# --resume's choice of checkpoint (drn_mm.engine.find_resumable_checkpoint)
# ----------------------------------------------------------------------------------------------


def _checkpoints(work, *names):
    for name in names:
        (work / name).write_bytes(b'x')


@pytest.mark.parametrize(
    'content,expected',
    [
        ('iter_4.pth', 'iter_4.pth'),  # intact pointer
        ('', 'iter_4.pth'),  # cut to nothing while written
        ('/some/where/it', 'iter_4.pth'),  # cut mid-path
        ('iter_6.pth', 'iter_4.pth'),  # names a file that was deleted
        ('iter_2.pth', 'iter_4.pth'),  # stale: a newer complete checkpoint exists
        (None, 'iter_4.pth'),  # killed before the first pointer was written
    ])
def test_resume_finds_the_newest_complete_checkpoint(tmp_path, content, expected):
    from drn_mm.engine.checkpoint_hook import find_resumable_checkpoint
    _checkpoints(tmp_path, 'iter_2.pth', 'iter_4.pth', '.iter_6.pth.tmp123', 'iter_x.pth')
    if content is not None:
        if content.startswith('iter_'):
            content = str(tmp_path / content)
        (tmp_path / 'last_checkpoint').write_text(content)
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / expected)


def test_partial_files_are_recognised(tmp_path):
    from drn_mm.engine.checkpoint_hook import remove_partial_checkpoints
    _checkpoints(tmp_path, 'iter_2.pth', '.iter_4.pth.tmp12', '.last_checkpoint.tmp12',
                 '.best_mIoU_iter_4.pth.tmp7', '.notes.tmp3', 'last_checkpoint')
    removed = remove_partial_checkpoints(str(tmp_path))
    assert sorted(removed) == sorted(
        str(tmp_path / n)
        for n in ('.iter_4.pth.tmp12', '.last_checkpoint.tmp12', '.best_mIoU_iter_4.pth.tmp7'))
    assert sorted(p.name
                  for p in tmp_path.iterdir()) == ['.notes.tmp3', 'iter_2.pth', 'last_checkpoint']


def test_resume_without_checkpoints_finds_none(tmp_path):
    from drn_mm.engine.checkpoint_hook import find_resumable_checkpoint
    _checkpoints(tmp_path, '.iter_2.pth.tmp99')
    assert find_resumable_checkpoint(str(tmp_path)) is None
    assert find_resumable_checkpoint(str(tmp_path / 'missing')) is None


def test_resume_keeps_a_pointer_to_a_custom_name(tmp_path):
    from drn_mm.engine.checkpoint_hook import find_resumable_checkpoint
    _checkpoints(tmp_path, 'iter_2.pth', 'best_mIoU_iter_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'best_mIoU_iter_1.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'best_mIoU_iter_1.pth')


def test_checkpoint_writes_never_expose_a_partial_file(tmp_path):
    """drn_mm's local file backend (what DRNCheckpointHook saves through on a local disk): a write
    that fails midway leaves the old file untouched and no temporary file behind (a kill leaves
    the temporary file, which --resume clears)."""
    from mmengine.fileio import get_file_backend

    from drn_mm.engine.file_backend import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_LOCAL_BACKEND))
    assert isinstance(backend, AtomicLocalBackend)
    (tmp_path / 'iter_2.pth').write_bytes(b'the last good checkpoint')
    with pytest.raises(TypeError):  # opened, then the write fails
        backend.put(object(), str(tmp_path / 'iter_2.pth'))
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth']
    assert (tmp_path / 'iter_2.pth').read_bytes() == b'the last good checkpoint'
    backend.put(b'new', str(tmp_path / 'iter_2.pth'))
    assert (tmp_path / 'iter_2.pth').read_bytes() == b'new'
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth']


# ----------------------------------------------------------------------------------------------
# Unusable checkpoints: clear errors naming the file, through --resume and tools/test.py's path
# ----------------------------------------------------------------------------------------------


def _tool_runner(work, data_root, resume=True, extra=()):
    """The runner tools/train.py builds (same argument parsing), without training."""
    from drn_mm.apis import DictAction, build_runner, load_config
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = [o for o in train_options(data_root) if not o.startswith('randomness.determ')]
    cfg_options = parser.parse_args(['--cfg-options', *options, *extra]).cfg_options
    cfg = load_config(DEMO_CONFIG, work_dir=str(work), cfg_options=cfg_options, resume=resume)
    return build_runner(cfg)


def _load_or_resume(runner):
    """What Runner.train() does before training: the hooks' before_run, then the load."""
    runner.call_hook('before_run')
    runner.load_or_resume()


@pytest.fixture(scope='module')
def good_checkpoint(tmp_path_factory, demo_cityscapes_data):
    runner = _tool_runner(tmp_path_factory.mktemp('good'), demo_cityscapes_data, resume=False)
    path = tmp_path_factory.mktemp('ckpt') / 'good.pth'
    torch.save(dict(state_dict=runner.model.state_dict(), meta=dict(iter=2)), path)
    return path


@pytest.mark.parametrize('damage', ['truncated', 'corrupt', 'empty', 'other_model'])
def test_unusable_checkpoint_on_resume_is_an_error_naming_the_file(tmp_path, demo_cityscapes_data,
                                                                   good_checkpoint, damage):
    from drn_mm import CheckpointError, CheckpointMismatchError
    data = good_checkpoint.read_bytes()
    target = tmp_path / 'iter_2.pth'
    if damage == 'truncated':
        target.write_bytes(data[:len(data) * 2 // 3])
    elif damage == 'corrupt':
        target.write_bytes(bytes(range(256)) * 64)
    elif damage == 'empty':
        target.write_bytes(b'')
    else:
        state = torch.load(good_checkpoint, weights_only=True)['state_dict']
        state['decode_head.conv_seg.weight'] = torch.zeros(5, 16, 1, 1)  # 5 classes, not 19
        state['decode_head.conv_seg.bias'] = torch.zeros(5)
        torch.save(dict(state_dict=state), target)
    (tmp_path / 'last_checkpoint').write_text(str(target))
    runner = _tool_runner(tmp_path, demo_cityscapes_data)
    expected = CheckpointMismatchError if damage == 'other_model' else CheckpointError
    with pytest.raises(expected) as info:
        _load_or_resume(runner)
    message = str(info.value)
    assert str(target) in message
    if damage == 'other_model':
        assert ('decode_head.conv_seg.weight: checkpoint [5, 16, 1, 1] vs model [19, 16, 1, 1]'
                in message)
    else:
        assert 'truncated or corrupt' in message


def test_resume_falls_back_to_the_newest_readable_checkpoint(tmp_path, demo_cityscapes_data,
                                                             reference_run, caplog):
    """The newest checkpoint is cut (a disk filled up, a copy interrupted): --resume takes the one
    before it, says so, and keeps the bad file under another name."""
    import shutil
    work = tmp_path / 'work'
    shutil.copytree(reference_run, work)
    newest = work / f'iter_{MAX_ITERS}.pth'
    data = newest.read_bytes()
    newest.write_bytes(data[:len(data) // 2])
    (work / 'last_checkpoint').write_text(str(newest))
    runner = _tool_runner(work, demo_cityscapes_data)
    _load_or_resume(runner)
    assert runner.iter == MAX_ITERS - 2
    assert not newest.exists() and (work / f'iter_{MAX_ITERS}.pth.unreadable').exists()
    log = runner_log(runner)
    assert f'resume: {newest} cannot be read' in log and f'kept as {newest}.unreadable' in log
    assert f'iter_{MAX_ITERS - 2}.pth' in log


def test_resume_without_checkpoints_says_so_once(tmp_path, demo_cityscapes_data):
    runner = _tool_runner(tmp_path, demo_cityscapes_data)
    _load_or_resume(runner)
    log = runner_log(runner)
    assert log.count('no checkpoint in') == 1


def test_a_failed_write_names_the_file(tmp_path):
    import errno

    from drn_mm.engine import atomic_write

    def full_disk(tmp):
        with open(tmp, 'wb') as f:
            f.write(b'half')
        raise OSError(errno.ENOSPC, 'No space left on device')

    target = tmp_path / 'iter_9.pth'
    with pytest.raises(OSError) as info:
        atomic_write(str(target), full_disk)
    assert info.value.errno == errno.ENOSPC and str(target) in str(info.value)
    assert os.listdir(tmp_path) == []  # no half file, under any name
    blocker = tmp_path / 'a_file'  # a folder that cannot be made (works as root too)
    blocker.write_text('x')
    with pytest.raises(OSError, match=str(blocker / 'out.pth')):
        atomic_write(str(blocker / 'out.pth'), lambda tmp: open(tmp, 'wb').close())


class _BestRunner:
    """What CheckpointHook._save_best_checkpoint uses of a runner."""

    def __init__(self, save):
        import logging

        from mmengine.logging import MessageHub
        self.epoch, self.iter = 0, 4
        self.message_hub = MessageHub.get_instance('drn_mm_best_test')
        self.message_hub.update_info('best_score', 0.5)
        self.logger = logging.getLogger('drn_mm_best_test')
        self.save_checkpoint = save


@pytest.mark.parametrize('save_fails', [False, True])
def test_a_new_best_checkpoint_replaces_the_old_one_only_once_written(tmp_path, save_fails):
    """mmengine deleted the previous best before writing the new one: a crash between the two
    left no best checkpoint."""
    from mmengine.fileio import get_file_backend

    from drn_mm.engine import DRNCheckpointHook
    old = tmp_path / 'best_mIoU_iter_2.pth'
    old.write_bytes(b'old best')
    order = []

    def save(out_dir, filename, *args, **kwargs):
        order.append(('save', old.exists()))
        if save_fails:
            raise OSError('No space left on device')
        (tmp_path / filename).write_bytes(b'new best')

    from drn_mm.engine.file_backend import ATOMIC_LOCAL_BACKEND
    hook = DRNCheckpointHook(interval=2, by_epoch=False, save_best='mIoU', rule='greater')
    # what the hook's before_train sets up for a local out_dir
    hook.out_dir = str(tmp_path)
    hook.file_backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend=ATOMIC_LOCAL_BACKEND))
    hook.best_ckpt_path = str(old)
    if save_fails:
        with pytest.raises(OSError):
            hook._save_best_checkpoint(_BestRunner(save), dict(mIoU=0.7))
        assert old.read_bytes() == b'old best'  # still there
    else:
        hook._save_best_checkpoint(_BestRunner(save), dict(mIoU=0.7))
        assert not old.exists() and (tmp_path / 'best_mIoU_iter_4.pth').exists()
    assert order == [('save', True)]  # the old best existed while the new one was written
    assert not hasattr(hook.file_backend, '__dict__') or 'remove' not in vars(hook.file_backend)

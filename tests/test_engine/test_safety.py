"""Training stops the right way: a non-finite loss stops it before the diverged weights are saved;
SIGTERM (preemption) checkpoints, exits with its own status, and --resume then reaches the same
final weights as an uninterrupted run."""
import os
import os.path as osp
import sys

import pytest
from tool_runs import (DEMO_CONFIG, MAX_ITERS, compare_weights, load_state, run, runner_log,
                       tool_command, train_options)

SEND_SIGTERM_AT = 3

#: runs tools/train.py with a hook (added through the config) that sends SIGTERM to the process
#: after iteration 3, as a scheduler would: deterministic where a signal from outside would race
#: the (fast) iterations
SIGTERM_AT_ITER = '''
import os, runpy, signal, sys
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

@HOOKS.register_module()
class SendTerm(Hook):
    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == int(os.environ['SEND_SIGTERM_AT']):
            os.kill(os.getpid(), signal.SIGTERM)

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


@pytest.mark.slow
def test_sigterm_checkpoints_exits_75_and_resume_equals_an_uninterrupted_run(
        tmp_path, demo_cityscapes_data, reference_run):
    from drn_mm.engine.safety import PREEMPTED_EXIT_CODE
    work = tmp_path / 'work'
    script = tmp_path / 'sigterm_at_iter.py'
    script.write_text(SIGTERM_AT_ITER)
    options = train_options(demo_cityscapes_data)
    first = run([
        sys.executable,
        str(script), *tool_command('train.py', DEMO_CONFIG)[1:], '--work-dir', work,
        '--cfg-options', *options, 'default_hooks.send_term.type=SendTerm'
    ], check=False, env=dict(SEND_SIGTERM_AT=str(SEND_SIGTERM_AT)))
    text = first.stdout + first.stderr
    assert first.returncode == PREEMPTED_EXIT_CODE == 75, text[-3000:]
    assert f'preempted at iteration {SEND_SIGTERM_AT}' in text
    assert f'Iter(train) [{SEND_SIGTERM_AT + 1}/{MAX_ITERS}]' not in text
    # iteration 3 is not a checkpoint interval (2): the preemption wrote it
    assert (work / f'iter_{SEND_SIGTERM_AT}.pth').exists()
    assert open(work / 'last_checkpoint').read().strip() == str(work /
                                                                f'iter_{SEND_SIGTERM_AT}.pth')
    second = run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--resume', '--cfg-options',
                     *options))
    text = second.stdout + second.stderr
    assert f'Iter(train) [{SEND_SIGTERM_AT + 1}/{MAX_ITERS}]' in text
    final = f'iter_{MAX_ITERS}.pth'
    # float64 runs: equal to rounding (the bound of the SIGKILL test)
    ratio, key, max_abs = compare_weights(
        load_state(osp.join(reference_run, final)), load_state(work / final), 1e-6, 1e-7)
    assert ratio <= 1, (ratio, key, max_abs)


@pytest.mark.slow
def test_a_non_finite_loss_stops_before_the_diverged_weights_are_saved(
        tmp_path, demo_cityscapes_data):
    """lr=inf: iteration 1's step makes the weights non-finite, iteration 2's loss is NaN."""
    work = tmp_path / 'work'
    options = train_options(demo_cityscapes_data, batch_size=2, max_iters=4, interval=1)
    result = run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', work, '--cfg-options', *options,
                     'optim_wrapper.optimizer.lr=inf'), check=False)
    assert result.returncode != 0
    message = result.stderr
    assert 'FloatingPointError: iteration 2: non-finite loss (loss=nan' in message, message[-3000:]
    # what it checked of the newest checkpoint, and how large the weights it stopped on are
    assert 'what was checked: its weights are finite' in message and '|w| = ' in message
    assert 'leftImg8bit.png' in message  # the batch's files
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == ['iter_1.pth']
    assert open(work / 'last_checkpoint').read().strip() == str(work / 'iter_1.pth')


def test_non_finite_loss_skip_mode_skips_the_step_and_counts_it(tmp_path, demo_cityscapes_data):
    """non_finite_loss='skip': the step of a NaN loss is not taken (no NaN reaches the weights),
    the run goes on, and the log counts it."""
    import argparse

    import torch

    from drn_mm.apis import DictAction, build_runner, load_config
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = train_options(demo_cityscapes_data, batch_size=2, max_iters=4, interval=4)
    cfg_options = parser.parse_args(['--cfg-options', *options, 'non_finite_loss=skip']).cfg_options
    cfg = load_config(DEMO_CONFIG, work_dir=str(tmp_path), cfg_options=cfg_options)
    runner = build_runner(cfg)
    head = runner.model.decode_head
    loss_by_feat, calls = head.loss_by_feat, []

    def nan_on_the_second_batch(*args, **kwargs):
        losses = loss_by_feat(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            losses['loss_ce'] = losses['loss_ce'] * float('nan')
        return losses

    head.loss_by_feat = nan_on_the_second_batch
    runner.train()
    assert runner.iter == 4 and len(calls) == 4
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    log = runner_log(runner)
    assert 'iteration 2: non-finite loss (nan)' in log and 'step skipped (1 so far)' in log


def test_a_skipped_step_leaves_the_batchnorm_statistics_as_they_were(tmp_path,
                                                                     demo_cityscapes_data):
    """One NaN pixel in one training batch: its forward pass puts NaN into BatchNorm's running
    statistics before the loss is seen (was: exit 0, every later checkpoint with NaN BN buffers,
    val mIoU 2.13). The skipped step puts the buffers back: the model is as it was before it."""
    import argparse

    import torch

    from drn_mm.apis import DictAction, build_runner, load_config
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = train_options(demo_cityscapes_data, batch_size=2, max_iters=4, interval=4)
    options = [o for o in options if 'model_dtype' not in o]  # float32, as a user trains
    cfg_options = parser.parse_args(
        ['--cfg-options', *options, 'non_finite_loss=skip',
         'model.backbone.norm_cfg.type=BN']).cfg_options
    cfg = load_config(DEMO_CONFIG, work_dir=str(tmp_path), cfg_options=cfg_options)
    runner = build_runner(cfg)
    stem = runner.model.backbone.stem[0]
    forward, calls, before = stem.forward, [], {}

    def nan_pixel_on_the_second_batch(x):
        calls.append(1)
        if len(calls) == 2 and runner.model.training:
            before.update((k, v.clone()) for k, v in runner.model.named_buffers())
            x = x.clone()
            x[0, :, 0, 0] = float('nan')
        return forward(x)

    stem.forward = nan_pixel_on_the_second_batch
    runner.train()
    assert before, 'the NaN batch never came'
    buffers = dict(runner.model.named_buffers())
    assert all(torch.isfinite(b).all() for b in buffers.values() if b.is_floating_point())
    tracked = [k for k in buffers if k.endswith('num_batches_tracked')]
    assert tracked and all(int(buffers[k]) == 3 for k in tracked)  # 4 steps, 1 skipped
    checkpoint = torch.load(tmp_path / 'iter_4.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in checkpoint.values() if v.is_floating_point())
    assert 'step skipped (1 so far)' in runner_log(runner)

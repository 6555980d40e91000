"""Training that stops the right way: on a non-finite loss, and on SIGTERM (preemption).

- :class:`NonFiniteLossHook`: a NaN/Inf loss stops the run at once with an error naming the
  iteration, every logged loss term and the batch's image files. It runs before the checkpoint
  hook, so the diverged weights are never saved: the last good checkpoint stays the newest.
- :class:`PreemptionHook`: SIGTERM (Slurm preemption, ``scancel``, a spot instance going away)
  lets the current iteration finish, writes a checkpoint through the config's checkpoint hook
  (unless that iteration's was just written) and exits with :data:`PREEMPTED_EXIT_CODE`, so a job
  script can tell "preempted, resume me" from a crash; ``--resume`` then continues to the same
  final weights as an uninterrupted run.

:class:`~drn_mm.engine.DRNCheckpointHook` runs both (in that order around its save); either
can also be a hook of its own in ``custom_hooks``.
"""
import logging
import math
import signal
import threading

import torch
import torch.distributed as dist
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

__all__ = ['NonFiniteLossHook', 'PreemptionHook', 'PREEMPTED_EXIT_CODE', 'NON_FINITE_MODES']

#: exit status after a SIGTERM was honoured with a checkpoint (EX_TEMPFAIL: "retry later")
PREEMPTED_EXIT_CODE = 75


def _value(v) -> float:
    return float(v.detach().float().mean()) if torch.is_tensor(v) else float(v)


def _batch_files(data_batch) -> list:
    samples = (data_batch or {}).get('data_samples') or []
    return [s.metainfo.get('img_path') for s in samples if hasattr(s, 'metainfo')]


NON_FINITE_MODES = ('stop', 'skip')


class NonFiniteLossHook(Hook):
    """A non-finite loss stops training (``mode='stop'``, see the module docstring) or its step
    is skipped (``mode='skip'``: no backward, no optimizer step, and the model's buffers, e.g.
    BatchNorm's running statistics, which the step's forward pass already updated, put back as
    they were before it: the skipped step leaves the whole model as it was; counted in the log as
    ``skipped_steps``; in distributed runs every rank skips when any rank's loss is non-finite).
    Set the mode with ``non_finite_loss = 'skip'`` in a config."""
    priority = 'ABOVE_NORMAL'  # after the loss averaging over ranks, before checkpointing

    def __init__(self, mode: str = 'stop'):
        if mode not in NON_FINITE_MODES:
            raise ValueError(f'non_finite_loss={mode!r}; valid: {NON_FINITE_MODES}')
        self.mode = mode
        self.skipped = 0
        self._files = []
        self._buffers = None

    def before_train(self, runner) -> None:
        if self.mode != 'skip':
            return
        wrapper = runner.optim_wrapper
        update_params = wrapper.update_params

        def update_params_if_finite(loss, *args, **kwargs):
            bad = torch.tensor([float(not bool(torch.isfinite(loss.detach()).all()))])
            if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
                if dist.get_backend() == 'nccl':
                    bad = bad.cuda()
                dist.all_reduce(bad, op=dist.ReduceOp.MAX)
            if not bad.item():
                return update_params(loss, *args, **kwargs)
            self.skipped += 1
            wrapper.zero_grad()
            for buffer, saved in self._buffers or ():  # the forward pass's BN statistics undone
                buffer.copy_(saved)
            runner.message_hub.update_scalar('train/skipped_steps', self.skipped)
            print_log(
                f'iteration {runner.iter + 1}: non-finite loss ({_value(loss):.4g}) on '
                f'{self._files}; step skipped ({self.skipped} so far)', logger='current',
                level=logging.WARNING)

        wrapper.update_params = update_params_if_finite

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._files = _batch_files(data_batch)
        if self.mode == 'skip':  # the buffers as they are before this step's forward pass
            self._buffers = [(b, b.detach().clone()) for b in runner.model.buffers()]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not outputs or self.mode == 'skip':
            return
        values = {
            k: _value(v)
            for k, v in outputs.items() if torch.is_tensor(v) or isinstance(v, (int, float))
        }
        if all(math.isfinite(v) for v in values.values()):
            return
        terms = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
        params = [p.detach() for p in runner.model.parameters() if p.is_floating_point()]
        largest = max((float(p.abs().max()) for p in params if p.numel()), default=0.0)
        raise FloatingPointError(
            f'iteration {runner.iter + 1}: non-finite loss ({terms}) on the batch of '
            f'{_batch_files(data_batch)}; training stopped before saving these weights. The '
            'newest checkpoint in the work dir was saved before this loss; what was checked: '
            'its weights are finite (a load refuses NaN/Inf), not that they are sound: the '
            f'weights this loss came from reach |w| = {largest:.3g}, and a run that diverges '
            'over several steps (|w| far above ~1e2) makes checkpoints of diverged weights '
            'before its loss overflows; then take an older one. Usual causes: a learning rate '
            'too high for the batch size, fp16 without loss scaling, a corrupt label map')


class PreemptionHook(Hook):
    """Checkpoint and exit on SIGTERM (see the module docstring)."""
    priority = 'LOWEST'  # after the checkpoint hook of the same iteration

    def __init__(self, signum: int = signal.SIGTERM):
        self.signum = signum
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        self.requested = True
        print_log(f'signal {signum} received: finishing this iteration, then checkpoint and exit',
                  logger='current')

    def before_train(self, runner) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(self.signum, self._handler)

    def after_train(self, runner) -> None:
        if self._previous is not None:
            signal.signal(self.signum, self._previous)
            self._previous = None

    def _agreed(self) -> bool:
        """Whether any rank was asked to stop: all ranks stop after the same iteration."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return self.requested
        flag = torch.tensor([float(self.requested)])
        if dist.get_backend() == 'nccl':
            flag = flag.cuda()
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None,
                         checkpoint_hook=None) -> None:
        if not self._agreed():
            return
        hook = checkpoint_hook or next(
            (h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None:
            print_log('preempted, but the run has no checkpoint hook: nothing saved',
                      logger='current')
        elif hook.by_epoch:
            print_log(
                'preempted mid-epoch in an epoch-based run: no mid-epoch checkpoint; '
                '--resume restarts from the last epoch checkpoint', logger='current')
        elif not (hook.every_n_train_iters(runner, hook.interval)
                  or hook.is_last_train_iter(runner)):
            hook._save_checkpoint(runner)
        print_log(
            f'preempted at iteration {runner.iter + 1}: checkpoint written, exiting with '
            f'{PREEMPTED_EXIT_CODE}; continue with --resume', logger='current')
        self.after_train(runner)
        raise SystemExit(PREEMPTED_EXIT_CODE)

"""DRNRunner: mmengine's Runner whose checkpoint loading knows DRN's foreign layouts.

Every checkpoint it loads is read once
(:func:`~drn_mm.models.utils.checkpoint.load_checkpoint_file`: the SHA-256 digits of its name
checked), ``revise_keys`` applied, the authors' layouts converted
and loaded by :func:`~drn_mm.models.backbones.drn_checkpoint.load_into_model`, with ``strict``
meaning what it says:

- ``load_from`` in a training run (fine-tuning; mmengine's default ``strict=False``): the DRN
  backbone loads completely or the run stops naming the file and what is missing; what does not
  fit the rest (a head of another ``num_classes``) is skipped and listed in the log.
- ``load_from`` in a test or val run (tools/test.py) and ``--resume``: strict. Every weight of the
  model comes from the file, or an error names the file, the keys and the arch the file fits; a
  metric is never computed with a randomly initialized head.
- An explicit ``strict=True/False`` passed to :meth:`DRNRunner.load_checkpoint` wins.

Checkpoints are written to a temporary file and renamed, so a crash while saving never replaces
the last good checkpoint with half a file, and in plain data that torch's weights-only loader reads
(:class:`~drn_mm.engine.portable_checkpoint.PlainMessageHubHook`).

Reliability at scale (see the README's "Distributed training and crash recovery"):

- ``CheckpointHook`` becomes :class:`~drn_mm.engine.DRNCheckpointHook` (delete outdated
  checkpoints only after the new one is on disk) and ``--resume`` takes the newest complete
  checkpoint even when ``last_checkpoint`` is cut or stale (:func:`find_resumable_checkpoint`).
- Launched distributed without CUDA (torchrun on CPUs), the process group is gloo, DDP wraps the
  model without ``device_ids`` and SyncBN synchronizes CPU tensors; distributed runs log losses
  averaged over the ranks.
- A built model's heads are checked against its backbone
  (:func:`drn_mm.models.checks.check_head_channels`), built segmentation data sets for missing
  label files and empty splits (:func:`drn_mm.datasets.checks.check_seg_dataset`).
"""
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_distributed, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import BaseTTAModel, convert_sync_batchnorm, is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS, RUNNERS
from mmengine.runner import Runner

from ..datasets.checks import check_seg_dataset, check_seg_dataset_config
from ..models.backbones.drn_checkpoint import load_into_model
from ..models.checks import check_head_channels
from ..models.utils.checkpoint import UnreadableCheckpointError, load_checkpoint_file
from .atomic import atomic_write
from .checkpoint_hook import DRNCheckpointHook, remove_partial_checkpoints, resumable_checkpoints
from .distributed import (AverageLossOverRanksHook, convert_sync_batchnorm_for_cpu,
                          init_cpu_process_group)
from .label_check import LabelsFitHeadsHook, check_num_classes_config, check_save_best
from .model_dtype import set_model_dtype
from .portable_checkpoint import PlainMessageHubHook
from .safety import NonFiniteLossHook, PreemptionHook


# mmengine's root registry: mmseg's and mmpretrain's tools build runners from there.
@RUNNERS.register_module()
class DRNRunner(Runner):

    def _bare_model(self):
        model = self.model.module if is_model_wrapper(self.model) else self.model
        while isinstance(model, BaseTTAModel):
            model = model.module
        return model

    #: what the runner is loading a checkpoint for: 'train' (load_from), 'test', 'resume'
    _loading_for = 'train'

    def train(self):
        self._loading_for = 'train'
        return super().train()

    def val(self):
        self._loading_for = 'test'
        return super().val()

    def test(self):
        self._loading_for = 'test'
        return super().test()

    def resume(self, filename: str, *args, **kwargs) -> None:
        previous, self._loading_for = self._loading_for, 'resume'
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._loading_for = previous

    def load_checkpoint(self, filename: str, map_location='cpu', strict: Optional[bool] = None,
                        revise_keys=[(r'^module\.', '')]):
        """Load a checkpoint of any known DRN layout into the model (read once).

        Args:
            strict: ``None`` (what mmengine's ``load_or_resume`` and ``resume`` pass): ``False``
                for ``load_from`` in a training run, ``True`` for a test / val run and for
                ``--resume``. ``True``: the file must fit the whole model. ``False``: the DRN
                backbone must still load completely; other mismatched or missing keys are
                skipped and logged.
            revise_keys: mmengine's (pattern, replacement) pairs, applied to the file's keys
                before the layout is converted.
        """
        if strict is None:
            strict = self._loading_for != 'train'
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        skipped = load_into_model(self._bare_model(), checkpoint, source=filename, strict=strict,
                                  revise_keys=revise_keys, logger=self.logger)
        if skipped:
            self.logger.warning(
                f'load_from {filename} (strict=False): the backbone loaded completely; '
                f'{len(skipped)} weights of the model keep their initialization: '
                f'{", ".join(skipped)}')
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs):
        """Save as mmengine does, but through a temporary name and an atomic rename."""
        parent = super()
        atomic_write(
            osp.join(out_dir, filename),
            lambda tmp: parent.save_checkpoint(out_dir, osp.basename(tmp), *args, **kwargs))

    def set_randomness(self, seed, diff_rank_seed: bool = False,
                       deterministic: bool = False) -> None:
        """mmengine's; ``deterministic`` also makes oneDNN (CPU convolutions) deterministic, so
        a resumed CPU run reproduces an uninterrupted one bit for bit."""
        super().set_randomness(seed, diff_rank_seed=diff_rank_seed, deterministic=deterministic)
        if deterministic and hasattr(torch.backends, 'mkldnn'):
            torch.backends.mkldnn.deterministic = True

    def setup_env(self, env_cfg: dict) -> None:
        """mmengine's, but a distributed launch without CUDA gets a gloo process group."""
        if self.distributed and not is_distributed() and not torch.cuda.is_available():
            init_cpu_process_group(self.launcher, **env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        """mmengine's, but on CPUs DDP gets no ``device_ids`` and SyncBN syncs CPU tensors."""
        if not self.distributed or torch.cuda.is_available() or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        if self.cfg.get('sync_bn') is not None:
            model = convert_sync_batchnorm(model, self.cfg.sync_bn)
        model = convert_sync_batchnorm_for_cpu(model)
        wrapper = dict(
            model_wrapper_cfg
            or dict(broadcast_buffers=False, find_unused_parameters=self.cfg.get(
                'find_unused_parameters', False)))
        wrapper.setdefault('type', 'MMDistributedDataParallel')
        return MODEL_WRAPPERS.build(wrapper, default_args=dict(module=model))

    def register_default_hooks(self, hooks=None) -> None:
        """mmengine's default hooks with :class:`DRNCheckpointHook` for ``CheckpointHook`` (same
        options), :class:`~drn_mm.engine.label_check.LabelsFitHeadsHook`,
        :class:`~drn_mm.engine.safety.NonFiniteLossHook`,
        :class:`~drn_mm.engine.safety.PreemptionHook` and, in distributed runs,
        :class:`AverageLossOverRanksHook`."""
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))
        if self.cfg.get('val_evaluator') is not None:
            check_save_best(checkpoint, self.cfg.val_evaluator)
        if isinstance(checkpoint,
                      dict) and checkpoint.get('type') in ('CheckpointHook', CheckpointHook):
            hooks['checkpoint'] = dict(checkpoint, type=DRNCheckpointHook)
        super().register_default_hooks(hooks)
        if self.distributed:
            self.register_hook(AverageLossOverRanksHook())
        self.register_hook(LabelsFitHeadsHook())
        self.register_hook(NonFiniteLossHook(self.cfg.get('non_finite_loss', 'stop')))
        self.register_hook(PreemptionHook())
        self.register_hook(PlainMessageHubHook())

    def load_or_resume(self) -> None:
        """``resume=True`` without ``load_from`` resumes from the newest readable checkpoint of
        :func:`resumable_checkpoints` and clears the temporary files of saves a crash cut short.

        A newest checkpoint that cannot be read (truncated, corrupt) while an older one exists is
        renamed ``<name>.unreadable`` (kept, not deleted) and the older one is used, with a warning
        naming both; when none is readable the error names the oldest tried. Each file is read
        once: the resume itself is the test of whether it can be read.
        """
        if self._has_loaded or not self._resume or self._load_from is not None:
            return super().load_or_resume()
        if is_main_process():
            for path in remove_partial_checkpoints(self.work_dir):
                self.logger.warning(f'removed {path}: a checkpoint save cut short')
        candidates = resumable_checkpoints(self.work_dir)
        if not candidates:
            self.logger.warning(f'resume: no checkpoint in {self.work_dir}; training from the '
                                'start')
            self._resume = False  # mmengine would log "Auto resumed from None"
            return super().load_or_resume()
        for i, path in enumerate(candidates):
            self._load_from = path
            try:
                super().load_or_resume()  # reads the file before it changes any state
            except UnreadableCheckpointError as e:
                if i == len(candidates) - 1 or '://' in path:
                    raise
                kept = f'{path}.unreadable'
                if is_main_process() and osp.exists(path):
                    os.replace(path, kept)
                self.logger.warning(f'resume: {path} cannot be read ({e}); kept as {kept}; '
                                    f'trying the next newest checkpoint, {candidates[i + 1]}')
            else:
                self.logger.info(f'Auto resumed from the latest checkpoint {path}.')
                return

    def build_model(self, model):
        """mmengine's, then :func:`~drn_mm.models.checks.check_head_channels`; with
        ``model_dtype`` in the config (e.g. ``'float64'``), the model in that dtype
        (:func:`~drn_mm.engine.model_dtype.set_model_dtype`), before any wrapper sees it."""
        if isinstance(model, dict):
            check_num_classes_config(model)
        model = super().build_model(model)
        check_head_channels(model)
        if self.cfg.get('model_dtype') is not None:
            set_model_dtype(model, self.cfg.model_dtype)
        return model

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        """mmengine's, then :func:`~drn_mm.datasets.checks.check_seg_dataset` on its data set
        (if the data set cannot be built, the error says why when it is an empty split)."""
        try:
            loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        except Exception:
            if isinstance(dataloader, dict):
                check_seg_dataset_config(dataloader.get('dataset'))
            raise
        check_seg_dataset(loader.dataset)
        return loader

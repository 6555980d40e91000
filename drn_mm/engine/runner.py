"""DRNRunner: mmengine's Runner whose checkpoint loading knows DRN's foreign layouts.

``load_from`` (tools/test.py's checkpoint) and ``--resume`` go through
:func:`drn_mm.checkpoint.convert_drn_state_dict` and a strict fit check, so the authors'
Cityscapes and ImageNet files load as they are and a checkpoint of another model is an error
naming the file, never a silent partial load. Checkpoints are written to a temporary file and
renamed, so a crash while saving never replaces the last good checkpoint with half a file.
"""
import os
import os.path as osp

from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..checkpoint import (check_state_dict_fits, convert_drn_state_dict, describe,
                          extract_state_dict, load_checkpoint_file)


# mmengine's root registry: mmseg's and mmpretrain's tools build runners from there.
@RUNNERS.register_module()
class DRNRunner(Runner):

    def _bare_model(self):
        model = self.model.module if is_model_wrapper(self.model) else self.model
        while isinstance(model, BaseTTAModel):
            model = model.module
        return model

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = True,
                        revise_keys=None):
        """Load any known DRN checkpoint layout into the model; always strict.

        ``strict`` and ``revise_keys`` are accepted for mmengine compatibility: a ``module.``
        prefix is stripped by the conversion, and a checkpoint that does not fit the model raises
        :class:`~drn_mm.CheckpointMismatchError` (BatchNorm ``num_batches_tracked`` may be absent).
        """
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self._bare_model()
        state_dict = convert_drn_state_dict(extract_state_dict(checkpoint))
        check_state_dict_fits(model, state_dict, describe(model), source=filename)
        model.load_state_dict(state_dict, strict=False)  # fit checked above
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs):
        """Save as mmengine does, but through a temporary name and an atomic rename."""
        tmp_name = f'.{filename}.tmp{os.getpid()}'
        final, tmp = osp.join(out_dir, filename), osp.join(out_dir, tmp_name)
        try:
            super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            if osp.exists(tmp):  # only the main process writes
                os.replace(tmp, final)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)

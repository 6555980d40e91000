# mmseg's runtime (logging, hooks, visualizer) plus the import that registers drn_mm's modules,
# so mmseg's own tools/train.py and tools/test.py (and mim) run drn_mm configs as drn_mm's do.
# drn_mm's guarantees (checkpoints written atomically and read checked, the authors' files
# converted, a test refused when its checkpoint or class count does not fit, NaN / SIGTERM /
# label checks) come from DRNCheckpointHook, the checkpoint hook each drn_mm schedule names
# (default_hooks.checkpoint.type; the schedule files own default_hooks).
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['drn_mm'], allow_failed_imports=False)
# distributed runs log the losses averaged over the ranks (nothing in one process)
custom_hooks = [dict(type='AverageLossOverRanksHook')]
tta_model = dict(type='DRNTTAModel', merge='log_prob')

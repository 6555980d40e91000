# mmpretrain's runtime (hooks, logging, visualizer) plus the import that registers drn_mm's
# modules, and DRNCheckpointHook, drn_mm's checkpoint hook: load_from / tools/test.py take the
# authors' ImageNet files (and torchvision's ResNet-50 for DRN-A-50) as they are, a test is
# refused when its checkpoint does not fit, checkpoints are written atomically.
_base_ = 'mmpretrain::_base_/default_runtime.py'
default_scope = 'mmpretrain'
custom_imports = dict(imports=['drn_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='DRNCheckpointHook'))
custom_hooks = [dict(type='AverageLossOverRanksHook')]

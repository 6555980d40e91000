# mmseg's runtime (logging, hooks, visualizer) plus the import that registers drn_mm's modules,
# so mmseg's own tools/train.py and tools/test.py run drn_mm configs too.
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['drn_mm'], allow_failed_imports=False)
# Checkpoints load through drn_mm's conversion (the authors' files as they are), strictly, and
# are written atomically (temporary file, then rename).
runner_type = 'DRNRunner'
tta_model = dict(type='DRNTTAModel', merge='log_prob')

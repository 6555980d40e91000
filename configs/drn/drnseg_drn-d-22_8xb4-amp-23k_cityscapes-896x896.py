# DRN-D-22, the authors' recipe, on the fast path (see docs/en/benchmarks.md):
# - bf16 mixed precision training (BF16OptimWrapper: no loss scaling) and bf16 autocast in
#   validation and test (AmpValLoop / AmpTestLoop: bf16 where supported, else fp16);
# - channels_last (NHWC) model and inputs (ChannelsLastHook).
# GPUs without bf16 (before Ampere): --cfg-options optim_wrapper.type=AmpOptimWrapper
#   optim_wrapper.dtype=float16.
_base_ = './drnseg_drn-d-22_8xb4-23k_cityscapes-896x896.py'
optim_wrapper = dict(type='BF16OptimWrapper')
val_cfg = dict(type='AmpValLoop')
test_cfg = dict(type='AmpTestLoop')
custom_hooks = [dict(type='AverageLossOverRanksHook'), dict(type='ChannelsLastHook')]

# FCN head on DRN-D-22, mmseg's 40k Cityscapes schedule, on the fast path (see
# docs/en/benchmarks.md): bf16 AMP training, bf16 autocast validation and test, channels_last.
# GPUs without bf16 (before Ampere): --cfg-options optim_wrapper.type=AmpOptimWrapper
#   optim_wrapper.dtype=float16.
_base_ = './fcn_drn-d-22-d8_4xb2-40k_cityscapes-512x1024.py'
optim_wrapper = dict(type='BF16OptimWrapper')
val_cfg = dict(type='AmpValLoop')
test_cfg = dict(type='AmpTestLoop')
custom_hooks = [dict(type='AverageLossOverRanksHook'), dict(type='ChannelsLastHook')]

# The reference recipe in iterations: SGD lr 0.01, momentum 0.9, wd 1e-4, 250 epochs of the 2975
# Cityscapes train images at batch 32 (8 GPUs x 4) = 23,250 iterations, lr x0.1 every 100 epochs.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='MultiStepLR', milestones=[9300, 18600], gamma=0.1, by_epoch=False, begin=0,
         end=23250)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=23250, val_interval=2325)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # drn_mm's checkpoint hook: its guarantees under any entry point (drn_mm.engine.checkpoint_hook)
    checkpoint=dict(type='DRNCheckpointHook', by_epoch=False, interval=2325, max_keep_ckpts=3,
                    save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # about 8 val/test pictures per pass, whatever the data size (mmseg's hook: every 50th)
    visualization=dict(type='DRNSegVisualizationHook', max_images=8))

# Demo street scenes (python -m drn_mm.demo.cityscapes), the experiments of docs/en/experiments.md:
# the out-of-the-box demo model (narrow DRN-D-22, the paper's x8 head) with a longer schedule.
# Every model of these experiments has the same data, crops, batch, optimizer, schedule and head
# (1x1 classifier + fixed bilinear upsampling); only the backbone differs. max_iters is set per
# run (--cfg-options max_iters=N train_cfg.max_iters=N param_scheduler.1.end=N) to give each the
# same training time.
_base_ = '../demo/drn_d_22_demo_cityscapes-128x256.py'
max_iters = 1500
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=20, end=max_iters, by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1))

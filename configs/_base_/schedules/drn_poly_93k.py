# The reference's best recipe (DRN-D-105): 500 epochs at batch 16 (8 GPUs x 2) = 93,000
# iterations, poly LR (power 0.9), SGD lr 0.01, momentum 0.9, wd 1e-4.
_base_ = './drn_step_23k.py'
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=93000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=93000, val_interval=9300)
default_hooks = dict(checkpoint=dict(interval=9300))

# FCN head on DRN-C-26 (output stride 8), mmseg's 80k Cityscapes schedule: the 40k sibling with
# mmseg's schedule_80k (its changes written out: mmengine forbids keys repeated among bases;
# tests/test_configs.py checks them against mmseg::_base_/schedules/schedule_80k.py), row for row
# with configs/baselines/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py.
_base_ = './fcn_drn-c-26-d8_4xb2-40k_cityscapes-512x1024.py'
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=80000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000))

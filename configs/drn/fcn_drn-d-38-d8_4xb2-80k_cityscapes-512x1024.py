# FCN head on DRN-D-38 (output stride 8), mmseg's 80k Cityscapes schedule: row for row with
# configs/baselines/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py.
_base_ = [
    '../_base_/models/fcn_drn.py', 'mmseg::_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='D-38'),
    auxiliary_head=dict(in_channels=512))

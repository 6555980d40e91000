# DRN-D-22 on CamVid (11 classes, SegNet layout), 2 GPUs x 4 images. drn_mm's recipe: the
# reference's optimizer and 250 epochs (367 images / batch 8 = 46 iterations per epoch), lr x0.1
# at epochs 100 and 200; no published DRN CamVid number exists to compare with.
# ImageNet init from the authors' file:
#   python tools/train.py configs/drn/drnseg_drn-d-22_2xb4-250e_camvid-360x480.py \
#       --pretrained drn_d_22-4bd2f8ea.pth
# Generated CamVid-layout data to try it: python -m drn_mm.demo.camvid --out data/camvid
_base_ = [
    '../_base_/models/drn_seg.py', '../_base_/datasets/camvid-360x480.py',
    '../_base_/default_runtime.py', '../_base_/schedules/drn_step_23k.py'
]
# ImageNet statistics (the authors' ImageNet weights were trained with them), RGB
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(data_preprocessor=data_preprocessor, backbone=dict(arch='D-22'),
             decode_head=dict(num_classes=11))
max_iters = 11500
param_scheduler = [
    dict(type='MultiStepLR', milestones=[4600, 9200], gamma=0.1, by_epoch=False, begin=0,
         end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=1150)
default_hooks = dict(checkpoint=dict(interval=1150))

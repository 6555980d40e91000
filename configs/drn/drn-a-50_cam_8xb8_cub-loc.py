# DRN-A-50 fine-tuned on CUB-200-2011 from its ImageNet weights, tested for weakly-supervised
# localization with CUB's boxes (top-1 / top-5 / GT-known localization error, classification
# error). Schedule: mmpretrain's CUB fine-tuning (SGD 0.01 nesterov, warmup + cosine, 100 epochs,
# batch 64).
#   python tools/train.py configs/drn/drn-a-50_cam_8xb8_cub-loc.py
#   python tools/test.py configs/drn/drn-a-50_cam_8xb8_cub-loc.py work_dirs/.../epoch_100.pth
_base_ = [
    '../_base_/models/drn_cls.py', '../_base_/datasets/cub_loc.py',
    'mmpretrain::_base_/schedules/cub_bs64.py', '../_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(
        arch='A-50',
        # torchvision's ResNet-50 file as it is (drn_mm converts it at load time)
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet50-19c8e357.pth')),
    head=dict(num_classes=200, in_channels=2048, with_cam=True))
train_dataloader = dict(batch_size=8)  # x 8 GPUs = 64
default_hooks = dict(logger=dict(interval=20))

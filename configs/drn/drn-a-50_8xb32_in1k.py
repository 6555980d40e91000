# DRN-A-50 on ImageNet-1k with the reference recipe (SGD 0.1, x0.1 every 30 epochs, 120 epochs,
# 8 GPUs x 32). Reference top-1 / top-5 error: 22.9 / 6.6 %. torchvision's resnet50-19c8e357.pth
# (the reference's drn_a_50 'pretrained' weights) loads as it is; trained without dilation, it
# is a start for fine-tuning: python tools/train.py THIS_CONFIG --pretrained resnet50-19c8e357.pth
_base_ = [
    '../_base_/models/drn_cls.py', '../_base_/datasets/imagenet_drn.py',
    '../_base_/schedules/imagenet_drn_120e.py', '../_base_/default_runtime_cls.py'
]
model = dict(backbone=dict(arch='A-50'), head=dict(in_channels=2048))

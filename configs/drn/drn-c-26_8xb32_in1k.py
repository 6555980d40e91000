# DRN-C-26 on ImageNet-1k with the reference recipe (SGD 0.1, x0.1 every 30 epochs, 120 epochs,
# 8 GPUs x 32). Reference top-1 / top-5 error: 24.9 / 7.6 %. The authors' weights
# (drn_c_26-ddedf421.pth) test as they are: python tools/test.py THIS_CONFIG drn_c_26-ddedf421.pth
_base_ = [
    '../_base_/models/drn_cls.py', '../_base_/datasets/imagenet_drn.py',
    '../_base_/schedules/imagenet_drn_120e.py', '../_base_/default_runtime_cls.py'
]
model = dict(backbone=dict(arch='C-26'))

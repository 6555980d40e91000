# DRN-D-105 on ImageNet-1k with the reference recipe (SGD 0.1, x0.1 every 30 epochs, 120 epochs,
# 8 GPUs x 32). Reference top-1 / top-5 error: 20.6 / 5.5 %. The authors' weights
# (drn_d_105-12b40979.pth) test as they are: python tools/test.py THIS_CONFIG drn_d_105-12b40979.pth
_base_ = './drn-c-26_8xb32_in1k.py'  # the same recipe with another backbone
model = dict(backbone=dict(arch='D-105'))

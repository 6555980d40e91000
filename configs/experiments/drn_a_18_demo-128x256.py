# DRN-A-18 (the authors' dilated ResNet-18: max pooling, levels 3-4 at dilation 2 and 4, no
# degridding) at the demo's widths, stride 8.
_base_ = './drn_d_22_demo-128x256.py'
model = dict(backbone=dict(arch='A-18', channels=(16, 16, 32, 64, 128)))

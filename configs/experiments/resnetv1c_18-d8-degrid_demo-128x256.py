# mmseg's dilated ResNetV1c-18-D8 followed by DRN's degridding levels as a neck (DegriddingNeck:
# dilation 2 then 1, conv-BN-ReLU without residuals, as DRN-D's levels 7-8), at the demo's widths.
_base_ = './resnetv1c_18-d8_demo-128x256.py'
model = dict(
    neck=dict(type='DegriddingNeck', in_channels=128, channels=(128, 128), num_layers=(
        1, 1), dilations=(2, 1), style='conv', norm_cfg={{_base_.norm_cfg}}))

# ResNetV1c-18 without dilation (output stride 32, the FCN-32s setting) at the demo's widths, with
# the same head (1x1 classifier, fixed bilinear x32 upsampling).
_base_ = './resnetv1c_18-d8_demo-128x256.py'
data_preprocessor = dict(size_divisor=32)
model = dict(data_preprocessor=data_preprocessor,
             backbone=dict(dilations=(1, 1, 1, 1),
                           strides=(1, 2, 2, 2)), decode_head=dict(upsample_factor=32))

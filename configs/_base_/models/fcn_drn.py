# DRN as a drop-in for ResNetV1c-D8 under mmseg's FCN head (and auxiliary FCN on level 6), with
# OpenMMLab's usual ImageNet normalization, so rows line up with fcn_r50-d8.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='DRN', arch='D-38', out_indices=(5, 7), norm_cfg=norm_cfg),
    decode_head=dict(type='FCNHead', in_channels=512, in_index=1, channels=512, num_convs=2,
                     concat_input=True, dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg,
                     align_corners=False, loss_decode=dict(type='CrossEntropyLoss',
                                                           use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=512,  # level 6: 512 with BasicBlocks, 2048 with Bottlenecks
        in_index=0,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

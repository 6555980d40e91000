# The DRN paper's segmentation model: DRN trunk through level 8 (stride 8), a 1x1 classifier and
# fixed x8 bilinear upsampling (DRNSegHead), cross-entropy at full resolution, ignore 255.
norm_cfg = dict(type='SyncBN', requires_grad=True)  # BN when not launched distributed
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # the reference's Cityscapes normalization (0-1 range x 255), RGB
    mean=[0.290101 * 255, 0.328081 * 255, 0.286964 * 255],
    std=[0.182954 * 255, 0.186566 * 255, 0.184475 * 255],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=8)
model = dict(
    type='EncoderDecoder', data_preprocessor=data_preprocessor,
    backbone=dict(type='DRN', arch='C-26', out_indices=(-1, ), norm_cfg=norm_cfg),
    decode_head=dict(type='DRNSegHead', in_channels=512, num_classes=19, upsample='deconv',
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))

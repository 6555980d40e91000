# DRN as an ImageNet classifier (Yu, Koltun, Funkhouser 2017): the trunk through level 8 (stride
# 8), then CAMHead: one 1x1 conv with bias shared by the logits (global average, any input size)
# and the dense class map used for weakly-supervised localization. No neck: the head pools.
# The backbone's default init is the reference's (conv ~ N(0, sqrt(2 / (k*k*out))), BN 1 / 0).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='DRN', arch='C-26', out_indices=(-1, ), norm_cfg=dict(type='BN')),
    head=dict(
        type='CAMHead',
        num_classes=1000,
        in_channels=512,  # 2048 for DRN-A-50
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

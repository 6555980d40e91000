# The reference's best Cityscapes recipe (DRN-D-105): random scale [0.5, 2], random rotation
# +-10 degrees, 840 crops, flip; 2 images per GPU x 8 GPUs = batch 16.
_base_ = './cityscapes_drn-896x896.py'
crop_size = (840, 840)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomRotate', prob=1.0, degree=10, pad_val=0, seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))

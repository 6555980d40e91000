# mmseg's Cityscapes data (mmseg::_base_/datasets/cityscapes.py: 512x1024 crops of random
# rescales, photometric distortion; whole-image test at 1024x2048) with every split's label maps
# read through LoadCheckedAnnotations: values outside the 19 classes and 255 (raw labelIds instead
# of labelTrainIds, the most common mistake), corrupt or lossy files are errors naming the file
# instead of a wrong mIoU. Training images go through LoadCheckedImageFromFile; val/test keep
# mmcv's LoadImageFromFile, which MMSegInferencer finds by name (drn_mm.datasets.loading).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
crop_size = (512, 1024)
load_labels = dict(type='LoadCheckedAnnotations', num_classes=19)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True), load_labels,
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
                    [
                        dict(type='RandomFlip', prob=0., direction='horizontal'),
                        dict(type='RandomFlip', prob=1., direction='horizontal')
                    ], [load_labels], [dict(type='PackSegInputs')]])
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

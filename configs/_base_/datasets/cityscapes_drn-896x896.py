# Cityscapes as the DRN reference trains it: random 896 crops + flip (no rescaling), whole-image
# test at 1024x2048, multi-scale test (--tta) at the reference's six scales without flip.
# Every split's label maps are read through LoadCheckedAnnotations: a corrupt or lossy file, a
# colour-coded one, another size, or values outside the 19 classes and 255 (raw labelIds in the
# val split: the most common mistake) is an error naming the file, not a crash hours in or a wrong
# mIoU. Training images go through LoadCheckedImageFromFile; val/test keep mmcv's
# LoadImageFromFile, which MMSegInferencer finds by name. See drn_mm.datasets.loading.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
crop_size = (896, 896)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
load_labels = dict(type='LoadCheckedAnnotations', num_classes=19)
test_pipeline = [  # MMSegInferencer needs LoadImageFromFile by name
    dict(type='LoadImageFromFile'), load_labels,
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
                    [load_labels], [dict(type='PackSegInputs')]])
]
train_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

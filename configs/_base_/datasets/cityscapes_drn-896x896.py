# Cityscapes as the DRN reference trains it: random 896 crops + flip (no rescaling), whole-image
# test at 1024x2048, multi-scale test (--tta) at the reference's six scales without flip.
# Every split is checked: training reads through checked loaders (a corrupt image or a bad label
# map is an error naming the file, not a crash hours in); val/test label maps are checked after
# mmseg's loaders (CheckSegLabels: raw labelIds in the val split are an error, not a wrong mIoU;
# mmseg's inference APIs find the loaders by name). See drn_mm.datasets.loading.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
crop_size = (896, 896)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
check_labels = dict(type='CheckSegLabels', num_classes=19)
test_pipeline = [  # mmseg's inference APIs look for the two loaders by name
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'), check_labels,
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
                    [dict(type='LoadAnnotations')], [check_labels], [dict(type='PackSegInputs')]])
]
train_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

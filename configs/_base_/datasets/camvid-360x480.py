# CamVid in the SegNet layout (python -m drn_mm.demo.camvid writes a small generated copy):
# data_root/{train,val,test}/*.png images, {train,val,test}annot/*.png labels 0-10, void 11 -> 255.
# drn_mm's recipe (no DRN CamVid number is published): random rescale 0.5-2, 360x480 crops, flip;
# whole-image test at 360x480. Labels are read through LoadCheckedAnnotations (errors name files).
dataset_type = 'CamVidDataset'
data_root = 'data/camvid/'
crop_size = (360, 480)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=11),
    dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [  # MMSegInferencer needs LoadImageFromFile by name
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=11),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='train',
                                  seg_map_path='trainannot'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='val', seg_map_path='valannot'), pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'],
                                 data_prefix=dict(img_path='test', seg_map_path='testannot')))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# CUB-200-2011 with boxes (bounding_boxes.txt) for weakly-supervised localization, in the common
# WSOL setting: train on 256 x 256 resizes with random 224 crops + flip; test on the whole image
# resized to 224 x 224. Boxes stay in original pixels; the metric maps predictions back.
dataset_type = 'CUBLocalization'
data_root = 'data/CUB_200_2011'
data_preprocessor = dict(num_classes=200, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
loc_meta_keys = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                 'flip_direction', 'ori_bboxes', 'ori_bbox_labels', 'crop_offset', 'pre_crop_shape',
                 'ori_mask_path')  # (the object's mask, for PxAP: CUBLocalization(mask_dir=...))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs', meta_keys=loc_meta_keys),
]

train_dataloader = dict(
    batch_size=8, num_workers=2, dataset=dict(type=dataset_type, data_root=data_root, split='train',
                                              pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=8, num_workers=2, dataset=dict(type=dataset_type, data_root=data_root, split='test',
                                              pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='LocalizationMetric', protocol='paper', threshold=0.0, topk=(1, 5),
                     stride=8)
test_dataloader = val_dataloader
test_evaluator = val_evaluator

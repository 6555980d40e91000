# Weakly-supervised localization on ImageNet val: the classifier's recipe for training
# (imagenet_drn.py), and a test split with the per-image box XML files
# (data/imagenet/val_boxes/ILSVRC2012_val_XXXXXXXX.xml from ILSVRC2012_bbox_val_v3.tgz).
# Test images are resized whole to 224 x 224 (the common CAM protocol: no crop, so no box is cut
# off); the metric maps boxes back to original-image pixels. To test on the classification crop
# instead: ResizeEdge(scale=256, edge='short') + CenterCropWithOffset(crop_size=224).
_base_ = './imagenet_drn.py'
loc_meta_keys = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                 'flip_direction', 'ori_bboxes', 'ori_bbox_labels', 'crop_offset', 'pre_crop_shape')
loc_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs', meta_keys=loc_meta_keys),
]
val_dataloader = dict(
    dataset=dict(type='ImageNetLocalization', box_prefix='val_boxes', pipeline=loc_test_pipeline))
# paper protocol (argmax class map, activation threshold t, smallest enclosing box); the
# common CAM protocol: dict(type='LocalizationMetric', protocol='cam', threshold=0.2)
val_evaluator = dict(_delete_=True, type='LocalizationMetric', protocol='paper', threshold=0.0,
                     topk=(1, 5), stride=8)
test_dataloader = val_dataloader
test_evaluator = val_evaluator

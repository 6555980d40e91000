# Weakly-supervised localization demo: a narrow DRN-C-26 classifier trained from scratch on the
# generated shapes data set in the CUB-200-2011 layout (5 classes, one object per 96 x 96 image,
# exact boxes; drn_mm/demo/shapes.py), then tested for localization from its own class
# map (12 x 12 cells at stride 8; no box supervision):
#   python -m drn_mm.demo.shapes --out data/demo_shapes
#   python tools/train.py configs/demo/drn_c_26_demo_shapes_localization.py \
#       --work-dir work_dirs/demo_shapes
#   python tools/test.py configs/demo/drn_c_26_demo_shapes_localization.py \
#       work_dirs/demo_shapes/epoch_24.pth [--cfg-options test_evaluator.protocol=cam \
#       test_evaluator.threshold=0.7]
# 24 epochs x 19 iterations of 32 images: about 0.3-0.4 s an iteration on 2 idle CPU cores.
_base_ = '../drn/drn-c-26_cam_8xb8_cub-loc.py'
data_root = 'data/demo_shapes'
classes = ('striped_disc', 'checkered_square', 'dotted_triangle', 'hatched_ring', 'speckled_cross')
num_classes = len(classes)
max_epochs = 24

model = dict(
    backbone=dict(arch='C-26', channels=(8, 16, 16, 32, 32, 64, 64, 64), init_cfg=None),
    head=dict(num_classes=num_classes, in_channels=64, with_cam=True, topk=(1, )))
data_preprocessor = dict(num_classes=num_classes)

# native 96 x 96 images: no resize, so the class map has 12 x 12 cells
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys={{_base_.loc_meta_keys}}),
]
train_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True,
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=train_pipeline))
# mask_dir: the generator writes each object's exact mask (for PxAP)
val_dataset = dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=test_pipeline,
                   mask_dir='masks')
val_dataloader = dict(batch_size=50, num_workers=1, persistent_workers=True, dataset=val_dataset)
test_dataloader = val_dataloader
# paper protocol: argmax class map, cells with f(c) > 0, smallest enclosing box, IoU >= 0.5
# (CAM protocol: --cfg-options test_evaluator.protocol=cam test_evaluator.threshold=0.2), plus
# MaxBoxAccV2 and PxAP of Choe et al. 2020 (threshold sweeps; tools/cam_tasks.py shows all)
val_evaluator = dict(type='LocalizationMetric', protocol='paper', threshold=0.0, topk=(1, ),
                     stride=8, max_box_acc=True, pxap=True)
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=8)
auto_scale_lr = dict(enable=False)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)

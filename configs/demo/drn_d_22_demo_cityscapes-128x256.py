# The out-of-the-box demo: a narrow DRN-D-22 with the paper's head, trained from scratch on the
# generated Cityscapes-layout data (python -m drn_mm.demo.cityscapes) on 2 CPU cores.
_base_ = [
    '../_base_/models/drn_seg.py', '../_base_/datasets/cityscapes_drn-896x896.py',
    '../_base_/default_runtime.py', '../_base_/schedules/drn_step_23k.py'
]
data_root = 'data/demo_cityscapes/'
crop_size = (128, 256)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(arch='D-22', channels=(16, 32, 32, 64, 64, 128, 128, 128), norm_cfg=norm_cfg),
    decode_head=dict(in_channels=128))
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=19),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.05))
max_iters = 300
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=20, end=max_iters, by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=100, max_keep_ckpts=2, save_best=None),
    visualization=dict(type='DRNSegVisualizationHook', max_images=8))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)

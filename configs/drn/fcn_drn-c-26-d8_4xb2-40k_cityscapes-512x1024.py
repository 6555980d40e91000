# FCN head on DRN-C-26 (output stride 8), mmseg's 40k Cityscapes schedule: row for row with
# configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py, its data checked by drn_mm
# (configs/_base_/datasets/cityscapes_checked-512x1024.py).
_base_ = [
    '../_base_/models/fcn_drn.py', '../_base_/datasets/cityscapes_checked-512x1024.py',
    '../_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size), backbone=dict(arch='C-26'),
    auxiliary_head=dict(in_channels=512))
# mmseg's schedule names mmengine's CheckpointHook: drn_mm's brings its guarantees under any entry
# point (drn_mm.engine.checkpoint_hook); every test image is drawn with --show-dir.
default_hooks = dict(
    checkpoint=dict(type='DRNCheckpointHook'), visualization=dict(type='DRNSegVisualizationHook',
                                                                  draw=False))

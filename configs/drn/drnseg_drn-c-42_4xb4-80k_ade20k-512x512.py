# DRN-C-42 with the paper's head on ADE20K (150 classes), mmseg's 80k schedule and pipeline.
_base_ = [
    '../_base_/models/drn_seg.py', 'mmseg::_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size, mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]), backbone=dict(arch='C-42'),
    decode_head=dict(num_classes=150))
# mmseg's schedule names mmengine's CheckpointHook: drn_mm's brings its guarantees under any entry
# point (drn_mm.engine.checkpoint_hook); every test image is drawn with --show-dir.
default_hooks = dict(
    checkpoint=dict(type='DRNCheckpointHook'), visualization=dict(type='DRNSegVisualizationHook',
                                                                  draw=False))

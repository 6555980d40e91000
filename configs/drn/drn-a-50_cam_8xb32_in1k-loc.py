# Weakly-supervised localization on ImageNet val with the DRN-A-50 classifier's own class map
# (no retraining): top-1 / top-5 / GT-known localization error and top-1 / top-5 classification
# error in one pass. Boxes: data/imagenet/val_boxes/*.xml.
#   python tools/test.py configs/drn/drn-a-50_cam_8xb32_in1k-loc.py resnet50-19c8e357.pth
# Other protocol or threshold:
#   --cfg-options test_evaluator.protocol=cam test_evaluator.threshold=0.2
_base_ = [
    '../_base_/models/drn_cls.py', '../_base_/datasets/imagenet_loc.py',
    '../_base_/schedules/imagenet_drn_120e.py', '../_base_/default_runtime_cls.py'
]
model = dict(backbone=dict(arch='A-50'), head=dict(in_channels=2048, with_cam=True))

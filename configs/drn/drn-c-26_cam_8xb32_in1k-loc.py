# Weakly-supervised localization on ImageNet val with the DRN-C-26 classifier's own class map
# (no retraining): top-1 / top-5 / GT-known localization error and top-1 / top-5 classification
# error in one pass. Boxes: data/imagenet/val_boxes/*.xml.
#   python tools/test.py configs/drn/drn-c-26_cam_8xb32_in1k-loc.py drn_c_26-ddedf421.pth
# Other protocol or threshold:
#   --cfg-options test_evaluator.protocol=cam test_evaluator.threshold=0.2
_base_ = [
    '../_base_/models/drn_cls.py', '../_base_/datasets/imagenet_loc.py',
    '../_base_/schedules/imagenet_drn_120e.py', '../_base_/default_runtime_cls.py'
]
model = dict(backbone=dict(arch='C-26'), head=dict(with_cam=True))

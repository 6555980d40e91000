# DRN-D-38 with the paper's head on ADE20K (150 classes), mmseg's 80k schedule and pipeline: the
# DRN-C-42 sibling with another backbone.
_base_ = './drnseg_drn-c-42_4xb4-80k_ade20k-512x512.py'
model = dict(backbone=dict(arch='D-38'))

# DRN-D-38 with the paper's head on Pascal VOC 2012 + SBD aug (21 classes), mmseg's 40k schedule:
# the DRN-C-42 sibling with another backbone.
_base_ = './drnseg_drn-c-42_4xb4-40k_voc12aug-512x512.py'
model = dict(backbone=dict(arch='D-38'))

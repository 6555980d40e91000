# DRN-C-26 on Cityscapes with the authors' recipe (8 GPUs x 4 images, 896 crops, 23,250 iterations).
# ImageNet init from the authors' checkpoint:
#   python tools/train.py configs/drn/drn_c_26_cityscapes.py --pretrained drn_c_26-*.pth
_base_ = [
    '../_base_/models/drn_seg.py', '../_base_/datasets/cityscapes_drn-896x896.py',
    '../_base_/default_runtime.py', '../_base_/schedules/drn_step_23k.py'
]
model = dict(backbone=dict(arch='C-26'))

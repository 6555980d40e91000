# DRN-D-38 on Cityscapes with the authors' recipe (8 GPUs x 4 images, 896 crops, 23,250 iterations):
# drn_c_26_cityscapes.py with another backbone. ImageNet init from the authors' checkpoint:
#   python tools/train.py configs/drn/drn_d_38_cityscapes.py --pretrained drn_d_38-*.pth
_base_ = './drnseg_drn-c-26_8xb4-23k_cityscapes-896x896.py'
model = dict(backbone=dict(arch='D-38'))

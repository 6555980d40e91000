# DRN-D-105 on Cityscapes with the authors' best recipe: random scale [0.5, 2] and rotation
# +-10 deg, 840 crops, 8 GPUs x 2 images, SyncBN, poly LR over 93,000 iterations (500 epochs).
#   bash tools/dist_train.sh configs/drn/drn_d_105_cityscapes.py 8 \
#       --pretrained drn_d_105-12b40979.pth
_base_ = [
    '../_base_/models/drn_seg.py', '../_base_/datasets/cityscapes_drn-840x840_aug.py',
    '../_base_/default_runtime.py', '../_base_/schedules/drn_poly_93k.py'
]
model = dict(backbone=dict(arch='D-105'))

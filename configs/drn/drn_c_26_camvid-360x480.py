# DRN-C-26 on CamVid: drn_d_22_camvid-360x480.py with another backbone.
#   python tools/train.py configs/drn/drn_c_26_camvid-360x480.py --pretrained drn_c_26-ddedf421.pth
_base_ = './drn_d_22_camvid-360x480.py'
model = dict(backbone=dict(arch='C-26'))

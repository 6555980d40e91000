# DRN-C-26 on CamVid: drnseg_drn-d-22_2xb4-250e_camvid-360x480.py with another backbone.
#   python tools/train.py configs/drn/drnseg_drn-c-26_2xb4-250e_camvid-360x480.py \
#       --pretrained drn_c_26-ddedf421.pth
_base_ = './drnseg_drn-d-22_2xb4-250e_camvid-360x480.py'
model = dict(backbone=dict(arch='C-26'))

# FCN head on DRN-C-58 (output stride 8), mmseg's 40k Cityscapes schedule: the DRN-C-26 sibling
# with another backbone, row for row with
# configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py.
_base_ = './fcn_drn-c-26-d8_4xb2-40k_cityscapes-512x1024.py'
model = dict(backbone=dict(arch='C-58'), auxiliary_head=dict(in_channels=2048))

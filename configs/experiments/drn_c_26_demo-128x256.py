# DRN-C-26 at the demo's widths (degridding levels 7-8 without residuals, as D-22).
_base_ = './drn_d_22_demo-128x256.py'
model = dict(backbone=dict(arch='C-26'))

# OpenMMLab baseline, mmseg's own config unchanged (mmsegmentation 1.2.2 model zoo).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py'

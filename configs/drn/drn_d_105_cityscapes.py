# The authors' recipe under its short name (what users type), the same as
# drnseg_drn-d-105_8xb2-93k_cityscapes-840x840.py
_base_ = './drnseg_drn-d-105_8xb2-93k_cityscapes-840x840.py'

# The authors' recipe under its short name (what users type), the same as
# drnseg_drn-c-26_8xb4-23k_cityscapes-896x896.py
_base_ = './drnseg_drn-c-26_8xb4-23k_cityscapes-896x896.py'

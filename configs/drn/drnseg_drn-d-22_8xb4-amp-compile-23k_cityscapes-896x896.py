# drn_d_22_cityscapes_amp.py plus torch.compile of the training step (mmengine Runner's `compile`
# option; the first iterations are slow while it compiles). Options: compile = dict(mode=...).
_base_ = './drnseg_drn-d-22_8xb4-amp-23k_cityscapes-896x896.py'
compile = True

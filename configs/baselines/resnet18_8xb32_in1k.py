# ResNet-18 baseline for the DRN ImageNet table: mmpretrain's config, unchanged (its 100-epoch
# schedule). Reference README top-1 / top-5 error: 30.4 / 10.8 % (torchvision weights).
_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'

# ResNet-50 baseline for the DRN ImageNet table: mmpretrain's config, unchanged (its 100-epoch
# schedule). Reference README top-1 / top-5 error: 24.0 / 7.0 % (torchvision weights).
_base_ = 'mmpretrain::resnet/resnet50_8xb32_in1k.py'

# ResNet-34 baseline for the DRN ImageNet table: mmpretrain's config, unchanged (its 100-epoch
# schedule). Reference README top-1 / top-5 error: 27.7 / 8.7 % (torchvision weights).
_base_ = 'mmpretrain::resnet/resnet34_8xb32_in1k.py'

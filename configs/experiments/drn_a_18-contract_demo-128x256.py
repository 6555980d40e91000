# DRN-A-18 with contract_dilation=True: the seed text's dilated ResNet (the first block of each
# dilated stage at half the dilation), a degridding trick of its own.
_base_ = './drn_a_18_demo-128x256.py'
model = dict(backbone=dict(contract_dilation=True))

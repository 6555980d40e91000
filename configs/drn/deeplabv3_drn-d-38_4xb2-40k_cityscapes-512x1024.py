# mmseg's own DeepLabV3-R50-D8 Cityscapes config with only the backbone swapped for DRN-D-38.
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['drn_mm'], allow_failed_imports=False)
model = dict(
    pretrained=None, backbone=dict(_delete_=True, type='DRN', arch='D-38', out_indices=(5, 7),
                                   norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=512, in_index=1), auxiliary_head=dict(in_channels=512, in_index=0))
# The one line that brings drn_mm's guarantees to an mmseg config, under any entry point:
default_hooks = dict(checkpoint=dict(type='DRNCheckpointHook'))

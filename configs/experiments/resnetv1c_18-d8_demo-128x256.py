# mmseg's dilated ResNetV1c-18 (deep stem, stages 3-4 at stride 1 and dilation 2 and 4: output
# stride 8) at the demo's widths, with the same head as the DRNs.
_base_ = './drn_d_22_demo-128x256.py'
model = dict(
    backbone=dict(_delete_=True, type='mmseg.ResNetV1c', depth=18, base_channels=16,
                  stem_channels=16, num_stages=4, out_indices=(3, ), dilations=(
                      1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg={{_base_.norm_cfg}},
                  norm_eval=False, style='pytorch', contract_dilation=True))

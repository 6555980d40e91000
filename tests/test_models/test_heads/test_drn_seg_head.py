import pytest
import torch
import torch.nn.functional as F

from drn_mm.models.decode_heads import DRNSegHead as _DRNSegHead
from drn_mm.models.decode_heads import bilinear_kernel


def DRNSegHead(**kwargs):
    """The head, its losses built from mmseg's registry whatever default scope an earlier test
    left current (an mmpretrain scope would resolve CrossEntropyLoss to mmpretrain's)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        return _DRNSegHead(**kwargs)


def test_kernel_is_the_bilinear_kernel():
    k = bilinear_kernel(16)
    ramp = 1 - (2 * torch.arange(16.) - 15).abs() / 16  # 1/16, 3/16, ..., 15/16, 15/16, ..., 1/16
    torch.testing.assert_close(k, ramp[:, None] * ramp[None, :])
    assert k.max() == (15 / 16)**2


def test_fixed_upsampling_equals_bilinear_interpolation_inside_the_map():
    """Kernel 16, stride 8, padding 4 is bilinear x8 with align_corners=False (borders aside)."""
    head = DRNSegHead(in_channels=4, num_classes=3)
    head.init_weights()
    x = torch.randn(2, 3, 6, 9)
    ours = head.up(x)
    ref = F.interpolate(x, scale_factor=8, mode='bilinear', align_corners=False)
    assert ours.shape == ref.shape == (2, 3, 48, 72)
    torch.testing.assert_close(ours[..., 4:-4, 4:-4], ref[..., 4:-4, 4:-4])


def test_upsampling_stays_frozen_and_survives_init():
    head = DRNSegHead(in_channels=4, num_classes=3)
    assert not head.up.weight.requires_grad
    head.up.weight.data.zero_()
    head.init_weights()
    torch.testing.assert_close(head.up.weight[1, 0], bilinear_kernel(16))
    assert head.conv_seg.bias is not None and head.dropout is None


def test_logits_are_cropped_to_label_size_for_odd_inputs():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    head = DRNSegHead(in_channels=4, num_classes=3)
    feats = (torch.randn(1, 4, 5, 7), )  # from a 37x50 input
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 37, 50)))
    losses = head.loss(feats, [sample], None)
    assert losses['loss_ce'].isfinite()
    logits = head.predict(feats, [dict(img_shape=(37, 50), pad_shape=(37, 50))], None)
    assert logits.shape == (1, 3, 37, 50)
    torch.testing.assert_close(logits, head(feats)[..., :37, :50])


def test_bilinear_option_and_errors():
    head = DRNSegHead(in_channels=4, num_classes=3, upsample='bilinear')
    assert not hasattr(head, 'up') and head((torch.randn(1, 4, 5, 7), )).shape == (1, 3, 5, 7)
    with pytest.raises(ValueError, match="upsample='nearest'; valid: \\('deconv', 'bilinear'\\)"):
        DRNSegHead(in_channels=4, num_classes=3, upsample='nearest')
    with pytest.raises(ValueError, match='in_channels=4 but the backbone feature has 8'):
        DRNSegHead(in_channels=4, num_classes=3)((torch.randn(1, 8, 5, 7), ))


def test_phase_upsampling_equals_the_transposed_conv_forward_and_backward():
    """The fast path computes exactly ConvTranspose2d(k=16, s=8, p=4, groups=C), any kernel."""
    torch.manual_seed(0)
    head = DRNSegHead(in_channels=4, num_classes=3).double()
    head.up.weight.data.normal_()  # not only the bilinear kernel
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64, requires_grad=True)
    ours = head.upsample_logits(x)
    ref = F.conv_transpose2d(x, head.up.weight, stride=8, padding=4, groups=3)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    grad = torch.randn_like(ref)
    (g_ours, ) = torch.autograd.grad(ours, x, grad)
    (g_ref, ) = torch.autograd.grad(ref, x, grad)
    torch.testing.assert_close(g_ours, g_ref, rtol=0, atol=1e-12)


def test_acc_seg_equals_mmseg_accuracy():
    from mmengine.structures import PixelData
    from mmseg.models.losses import accuracy
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    head = DRNSegHead(in_channels=4, num_classes=3)
    feats = (torch.randn(2, 4, 4, 6), )
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        label = torch.randint(0, 3, (1, 32, 48))
        label[:, :5] = 255
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    losses = head.loss(feats, samples, None)
    labels = torch.cat([s.gt_sem_seg.data for s in samples])
    expected = accuracy(head(feats), labels, ignore_index=255)
    torch.testing.assert_close(losses['acc_seg'], expected.reshape(()))
    reference = F.cross_entropy(head(feats), labels, ignore_index=255, reduction='none')
    torch.testing.assert_close(losses['loss_ce'], reference.sum() / labels.numel())


@pytest.mark.parametrize('upsample', ['deconv', 'bilinear'])
def test_predict_equals_mmseg_base_head_and_resizes_only_when_needed(upsample, monkeypatch):
    """predict_by_feat gives BaseDecodeHead's result on the cropped logits (logits at pad_shape)
    without its resize of logits that already have that size (a full-resolution copy)."""
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead

    import drn_mm.models.decode_heads.drn_seg_head as module
    torch.manual_seed(0)
    head = DRNSegHead(in_channels=4, num_classes=3, upsample=upsample).eval()
    head.init_weights()
    calls = []
    real_resize = module.resize
    monkeypatch.setattr(module, 'resize', lambda *a, **k: calls.append(1) or real_resize(*a, **k))
    for size, pad in [((40, 56), (40, 56)), ((37, 50), (37, 50)), ((37, 50), (40, 56))]:
        feats = (torch.randn(2, 4, 5, 7), )
        metas = [dict(img_shape=size, pad_shape=pad)] * 2
        calls.clear()
        with torch.no_grad():
            ours = head.predict(feats, metas, None)
            logits = head(feats)
            if upsample == 'deconv':  # x8 logits are cropped to the input, not resized
                logits = logits[..., :pad[0], :pad[1]]
            reference = BaseDecodeHead.predict_by_feat(head, logits, metas)
        assert ours.shape == (2, 3, *pad)
        if upsample == 'deconv':
            torch.testing.assert_close(ours, reference, rtol=0, atol=0)
            assert calls == []  # 40x56 exactly, or cropped to 37x50: never resized
        else:  # stride-8 logits are resized once, as mmseg does
            torch.testing.assert_close(ours, reference)
            assert len(calls) == 1

"""CAMHead in mmpretrain's ImageClassifier: parity with the reference classifier (fixtures), the
torchvision Linear fc of DRN-A, any input size, the class map stored at predict time."""
import mmpretrain  # noqa: F401,E402  (required: drn_mm's tests need both libraries)
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_scaled
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS  # noqa: E402

import drn_mm  # noqa: F401
from drn_mm.models.backbones.drn_checkpoint import convert_drn_state_dict
from drn_mm.models.utils import CheckpointMismatchError, check_state_dict_fits, describe

FIXTURE_MODELS = ['C-26', 'C-58', 'D-22', 'D-24', 'D-54']
PRESET = {
    ('C', 'BasicBlock'): 'C-26',
    ('C', 'Bottleneck'): 'C-58',
    ('D', 'BasicBlock'): 'D-22',
    ('D', 'Bottleneck'): 'D-54'
}


def build_classifier(backbone: dict, num_classes: int, in_channels: int, **head):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(
            dict(
                type='ImageClassifier', backbone=dict(type='DRN', **backbone),
                head=dict(type='CAMHead', num_classes=num_classes, in_channels=in_channels,
                          **head)))


def fixture_classifier(entry, **head):
    """ImageClassifier + CAMHead of a fixture model, loaded (strictly) with its reference weights
    converted by drn_mm (fc -> head.fc)."""
    model = build_classifier(
        dict(arch=PRESET[(entry['arch'], entry['block'])], channels=entry['channels'],
             layers=entry['layers']), entry['num_classes'], entry['channels'][-1], **head)
    state = convert_drn_state_dict(entry['state_dict'])
    assert {'head.fc.weight', 'head.fc.bias'} <= set(state)
    check_state_dict_fits(model, state, describe(model))
    model.load_state_dict(state, strict=False)
    return model.eval()


@pytest.mark.parametrize('name', FIXTURE_MODELS)
def test_classifier_reproduces_reference_class_map_and_logits(tiny_reference, name):
    entry = tiny_reference['models'][name]
    model = fixture_classifier(entry, with_cam=True).double()  # float64: see assert_close_scaled
    x = tiny_reference['input'].double()
    with torch.no_grad():
        class_map = model.head.class_map(model.extract_feat(x))
        logits = model(x, mode='tensor')
        predictions = model.predict(x)
    assert_close_scaled(class_map, entry['class_map'], what=f'{name} class_map')
    assert_close_scaled(logits, entry['logits'], what=f'{name} logits')
    assert len(predictions) == x.shape[0]
    for i, sample in enumerate(predictions):
        assert_close_scaled(sample.pred_cam, entry['class_map'][i], what=f'{name} pred_cam')
        assert_close_scaled(sample.pred_score, F.softmax(entry['logits'][i], dim=0),
                            what=f'{name} pred_score')
        assert int(sample.pred_label) == int(entry['logits'][i].argmax())


def test_any_input_size_logits_are_the_mean_of_the_class_map(tiny_reference):
    entry = tiny_reference['models']['C-26']
    model = fixture_classifier(entry)
    for size in [(37, 53), (8, 8), (121, 64)]:
        x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(sum(size)))
        with torch.no_grad():
            class_map = model.head.class_map(model.extract_feat(x))
            logits = model(x, mode='tensor')
        assert class_map.shape == (1, 10, -(-size[0] // 8), -(-size[1] // 8))
        assert_close_scaled(logits, class_map.mean(dim=(2, 3)), what=f'logits at {size}')


def test_without_cam_predict_stores_no_class_map(tiny_reference):
    entry = tiny_reference['models']['D-22']
    model = fixture_classifier(entry, with_cam=False)
    with torch.no_grad():
        sample = model.predict(tiny_reference['input'])[0]
    assert 'pred_cam' not in sample
    assert_close_scaled(sample.pred_score, F.softmax(entry['logits'][0], dim=0))


def test_drn_a_torchvision_linear_fc_becomes_the_1x1_conv():
    """A torchvision-layout DRN-A checkpoint (Linear fc (C, 2048-like)) gives the logits of
    Linear(global average of the features)."""
    backbone = dict(arch='A-50', channels=(8, 8, 16, 16, 32))  # stage 4 outputs 32 * 4 = 128
    torch.manual_seed(0)
    source = build_classifier(backbone, 7, 128)
    rename = {'stem.0.': 'conv1.', 'stem.1.': 'bn1.'}
    torchvision_state = {}
    for key, value in source.backbone.state_dict().items():
        for old, new in rename.items():
            if key.startswith(old):
                key = new + key[len(old):]
        torchvision_state[key] = value + 0.01 * torch.randn_like(value.float()).to(value.dtype)
    linear = torch.nn.Linear(128, 7)
    torchvision_state['fc.weight'] = linear.weight.detach().clone()
    torchvision_state['fc.bias'] = linear.bias.detach().clone()

    model = build_classifier(backbone, 7, 128, with_cam=True)
    state = convert_drn_state_dict(torchvision_state)
    assert state['head.fc.weight'].shape == (7, 128, 1, 1)
    check_state_dict_fits(model, state, describe(model))
    model.load_state_dict(state, strict=False)
    model.eval()
    x = torch.randn(2, 3, 70, 45, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feature = model.extract_feat(x)[-1]
        expected = linear(feature.mean(dim=(2, 3)))
        logits = model(x, mode='tensor')
        class_map = model.head.class_map((feature, ))
    assert_close_scaled(logits, expected, what='DRN-A logits')
    assert_close_scaled(class_map.mean(dim=(2, 3)), expected, what='DRN-A class map mean')


def test_checkpoint_of_another_width_is_refused(tiny_reference):
    entry = tiny_reference['models']['C-26']
    model = build_classifier(
        dict(arch='C-26', channels=entry['channels'], layers=entry['layers']), 11,
        entry['channels'][-1])  # 11 classes: fc does not fit
    with pytest.raises(CheckpointMismatchError, match='head.fc.weight'):
        check_state_dict_fits(model, convert_drn_state_dict(entry['state_dict']), describe(model))


def test_head_rejects_features_of_the_wrong_width():
    model = build_classifier(dict(arch='C-26', channels=(4, 8, 8, 8, 16, 16, 16, 16)), 5, 32)
    with pytest.raises(ValueError, match=r'expects \(N, 32, H, W\)'):
        model(torch.randn(1, 3, 16, 16), mode='tensor')


def test_reference_checkpoint_file_loads_through_drn_mm_loader(tiny_reference, tmp_path):
    """The authors' file layout (reference keys, fc included, no num_batches_tracked) loads into
    the classifier through the check DRNCheckpointHook runs in tools/test.py."""
    from drn_mm.apis import load_model_checkpoint
    entry = tiny_reference['models']['D-24']
    path = str(tmp_path / 'drn_d_24_reference.pth')
    torch.save(
        {
            k: v
            for k, v in entry['state_dict'].items() if not k.endswith('num_batches_tracked')
        }, path)
    model = build_classifier(
        dict(arch='D-24', channels=entry['channels'], layers=entry['layers']), 10,
        entry['channels'][-1])
    load_model_checkpoint(model, path)
    with torch.no_grad():
        logits = model.eval()(tiny_reference['input'], mode='tensor')
    assert_close_scaled(logits, entry['logits'], what='D-24 logits from file')

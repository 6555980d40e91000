"""Loading the authors' checkpoints as they are: through init_cfg, through the converter tool."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from helpers import named_by_sha, reference_checkpoint_from_key_table

from drn_mm.models import DRN
from drn_mm.models.backbones.drn_checkpoint import convert_drn_state_dict
from drn_mm.models.utils import CheckpointError, CheckpointMismatchError, load_checkpoint_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SMALL = dict(channels=(4, 8, 16, 16, 32, 32, 32, 32))


def _stem_key(arch, suffix):
    return {
        'C': {
            '0': 'conv1',
            '1': 'bn1'
        },
        'D': {
            '0': 'layer0.0',
            '1': 'layer0.1'
        },
        'A': {
            '0': 'conv1',
            '1': 'bn1'
        }
    }[arch[0]][suffix[0]] + suffix[1:]


def assert_loaded(model, reference_state):
    """Each drn_mm tensor equals the reference tensor it must come from."""
    for key, value in model.state_dict().items():
        if key.endswith('num_batches_tracked') and key not in reference_state:
            continue
        ref_key = _stem_key(model.arch, key[len('stem.'):]) if key.startswith('stem.') else key
        assert torch.equal(value, reference_state[ref_key]), key


@pytest.mark.parametrize('arch, official', [('C-26', 'drn_c_26'), ('D-22', 'drn_d_22'),
                                            ('C-58', 'drn_c_58'), ('A-50', 'drn_a_50')])
@pytest.mark.parametrize('variant',
                         ['plain', 'no_num_batches_tracked', 'module_prefix', 'mmengine_dict'])
def test_init_cfg_loads_reference_checkpoint(tmp_path, official_keys, arch, official, variant):
    state = reference_checkpoint_from_key_table(
        official_keys[official], with_num_batches_tracked=variant != 'no_num_batches_tracked')
    saved = state
    if variant == 'module_prefix':
        saved = {'module.' + k: v for k, v in state.items()}
    elif variant == 'mmengine_dict':
        saved = {'state_dict': {'module.' + k: v for k, v in state.items()}, 'epoch': 3}
    path = tmp_path / f'{official}.pth'
    torch.save(saved, path)
    model = DRN(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    assert_loaded(model, state)


def test_torchvision_resnet_checkpoint_loads_into_drn_a(tmp_path):
    import torchvision
    resnet = torchvision.models.resnet18()
    path = tmp_path / 'resnet18.pth'
    torch.save(resnet.state_dict(), path)
    model = DRN(arch='A-18', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    assert_loaded(model, resnet.state_dict())
    # the Linear fc becomes the 1x1 conv of the CAM head
    converted = convert_drn_state_dict(resnet.state_dict())
    assert converted['head.fc.weight'].shape == (1000, 512, 1, 1)
    assert torch.equal(converted['head.fc.weight'][:, :, 0, 0], resnet.fc.weight)


def test_fixture_checkpoint_through_init_cfg_reproduces_reference(tmp_path, tiny_reference):
    from helpers import assert_close_scaled
    entry = tiny_reference['models']['D-54']
    path = tmp_path / 'tiny_d54.pth'
    torch.save(entry['state_dict'], path)
    model = DRN(arch='D-54', channels=entry['channels'], layers=entry['layers'],
                init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    with torch.no_grad():  # float64: see assert_close_scaled
        out = model.eval().double()(tiny_reference['input'].double())[0]
    assert_close_scaled(out, entry['levels'][-1], what='D-54 level 8')


def test_drn_mm_own_checkpoint_loads(tmp_path):
    source = DRN(arch='D-22', **SMALL)
    source.init_weights()
    path = tmp_path / 'own.pth'
    torch.save(
        {
            'state_dict': {
                f'backbone.{k}': v
                for k, v in source.state_dict().items()
            },
            'meta': {}
        }, path)
    model = DRN(arch='D-22', init_cfg=dict(type='Pretrained', checkpoint=str(path)), **SMALL)
    model.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(v, model.state_dict()[k])


def test_wrong_arch_is_a_clear_error_never_a_partial_load(tmp_path, official_keys):
    path = tmp_path / 'drn_c_26.pth'
    torch.save(reference_checkpoint_from_key_table(official_keys['drn_c_26']), path)
    model = DRN(arch='C-42', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as info:
        model.init_weights()
    message = str(info.value)
    assert str(path) in message and "DRN(arch='C-42')" in message
    assert ('keys missing from the checkpoint (first: layer3.2.conv1.weight [64, 64, 3, 3]'
            in message)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f'{k} was changed by a failed load'


def test_shape_mismatch_is_named(tmp_path, official_keys):
    path = tmp_path / 'drn_d_22.pth'
    torch.save(reference_checkpoint_from_key_table(official_keys['drn_d_22']), path)
    model = DRN(arch='D-22', channels=(16, 32, 64, 128, 256, 256, 512, 512),
                init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(
            CheckpointMismatchError, match=r'shape mismatches \(first: layer6\.0\.conv1'
            r'\.weight: checkpoint \[512, 256, 3, 3\] vs model \[256, 256, 3, 3\]'):
        model.init_weights()


def test_unreadable_checkpoint_names_the_file(tmp_path):
    path = tmp_path / 'truncated.pth'
    buffer = tmp_path / 'full.pth'
    torch.save({'conv1.weight': torch.zeros(16, 3, 7, 7)}, buffer)
    path.write_bytes(buffer.read_bytes()[:100])
    with pytest.raises(CheckpointError, match='truncated.pth'):
        load_checkpoint_file(str(path))
    with pytest.raises(CheckpointError, match='not found: .*missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_unknown_layout_is_rejected():
    with pytest.raises(CheckpointMismatchError, match='not a DRN checkpoint'):
        convert_drn_state_dict({'encoder.weight': torch.zeros(1)})


def run_tool(*args):
    return subprocess.run(
        [sys.executable,
         osp.join(REPO, 'tools', 'convert_official_drn.py'), *map(str, args)], capture_output=True,
        text=True)


def test_convert_tool_writes_mmengine_checkpoint(tmp_path, official_keys):
    state = reference_checkpoint_from_key_table(official_keys['drn_d_38'],
                                                with_num_batches_tracked=False)
    src, dst = tmp_path / 'drn_d_38.pth', tmp_path / 'out' / 'drn_d_38_mm.pth'
    torch.save(state, src)
    src = named_by_sha(src)  # drn_d_38-<its digest>.pth, the authors' naming (checked)
    result = run_tool(src, dst, '--arch', 'D-38')
    assert result.returncode == 0, result.stderr
    assert 'reference_d checkpoint' in result.stdout
    converted = torch.load(dst, weights_only=True)
    assert converted['meta']['arch'] == 'D-38'
    assert torch.equal(converted['state_dict']['backbone.stem.0.weight'], state['layer0.0.weight'])
    assert torch.equal(converted['state_dict']['head.fc.bias'], state['fc.bias'])
    # what the tool wrote loads through init_cfg like any drn_mm checkpoint
    model = DRN(arch='D-38', init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    assert_loaded(model, state)


def test_convert_tool_refuses_wrong_arch(tmp_path, official_keys):
    src, dst = tmp_path / 'drn_c_26.pth', tmp_path / 'x.pth'
    torch.save(reference_checkpoint_from_key_table(official_keys['drn_c_26']), src)
    result = run_tool(src, dst, '--arch', 'D-22')
    assert result.returncode == 1
    assert "does not fit DRN(arch='D-22')" in result.stderr and str(src) in result.stderr
    assert not dst.exists()


def test_a_checkpoint_with_nan_weights_is_refused_naming_the_tensor(tmp_path):
    from drn_mm.apis import load_model_checkpoint
    backbone = DRN(arch='D-22', channels=(4, 8, 8, 8, 16, 16, 16, 16))
    state = {f'backbone.{k}': v.clone() for k, v in backbone.state_dict().items()}
    state['backbone.layer5.0.conv1.weight'][0, 0, 0, 0] = float('nan')
    path = tmp_path / 'diverged.pth'
    torch.save(dict(state_dict=state), path)
    fresh = DRN(arch='D-22', channels=(4, 8, 8, 8, 16, 16, 16, 16))

    class Model(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = fresh

    before = fresh.layer5[0].conv1.weight.clone()
    with pytest.raises(CheckpointError) as info:
        load_model_checkpoint(Model(), str(path))
    assert (f'{path}: backbone.layer5.0.conv1.weight holds 1 non-finite value(s) (NaN/Inf)'
            in str(info.value))
    assert torch.equal(fresh.layer5[0].conv1.weight, before)  # nothing loaded


class _RunsCode:

    def __reduce__(self):
        import os
        return (os.system, ('touch /tmp/drn_mm_code_ran', ))


def test_a_checkpoint_holding_code_is_refused_saying_so(tmp_path):
    import os
    marker = '/tmp/drn_mm_code_ran'
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, extra=_RunsCode()), path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint_file(str(path))
    message = str(info.value)
    assert f'{path} contains code: loading it would call ' in message
    assert 'system' in message and 'will not run it' in message
    assert 'weights_only=True' in message and 'If you trust the file' in message
    assert not os.path.exists(marker)


def test_mismatch_messages_name_the_backbone_arch_of_a_segmentor():
    from drn_mm.models.utils import describe

    class Segmentor(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = DRN(arch='D-38', channels=(4, 8, 8, 8, 16, 16, 16, 16))

    assert describe(Segmentor()) == "Segmentor(backbone=DRN(arch='D-38'))"


def test_a_checkpoint_of_another_arch_is_named_by_its_shapes(tmp_path):
    """Users see "this is a D-38 file, you used the D-22 config", not only the mismatched keys."""
    from drn_mm.models.backbones.drn_checkpoint import archs_fitting
    source = DRN(arch='D-38')
    assert archs_fitting(DRN, source.state_dict()) == ['D-38']
    path = tmp_path / 'd38.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in source.state_dict().items()}), path)
    model = DRN(arch='D-22', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointMismatchError) as info:
        model.init_weights()
    message = str(info.value)
    assert 'does not fit DRN(arch=\'D-22\')' in message
    assert ("Its backbone is a DRN-D-38 checkpoint, but the model is DRN-D-22: use a config for "
            "DRN-D-38 (model.backbone.arch='D-38')") in message

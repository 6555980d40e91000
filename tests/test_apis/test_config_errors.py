"""Config errors are build-time errors naming the option, the value and what is valid: through
tools/train.py (in-process, and once as a command line) and drn_mm.models.checks."""
import importlib.util
import os.path as osp

import pytest
import torch.nn as nn
from tool_runs import DEMO_CONFIG, REPO, run, tool_command

TINY = ['model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16']


def data_options(root):
    """The tiny generated data (a run's checks of heads and options come after its loaders)."""
    return [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')
            ] + ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']


@pytest.fixture(scope='module')
def train_tool():
    spec = importlib.util.spec_from_file_location('drn_train_tool',
                                                  osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('options,message', [
    (['model.backbone.arch=E-99'], "DRN: arch='E-99' is not a DRN preset; valid: ('A-18', 'A-34'"),
    (['model.backbone.out_indices=[9]'
      ], 'DRN-D-22: out_indices=(9,) has 9, out of range for its 8 levels; valid: 0..7 or -8..-1'),
    (['model.backbone.frozen_stages=9'
      ], 'DRN-D-22: frozen_stages=9 is out of range; valid: -1 (nothing), 0 (stem) .. 8'),
    (['model.backbone.layers=[1,1,2,2]'
      ], 'DRN-D-22: layers=(1, 1, 2, 2) needs 8 entries, one per level'),
    (['model.decode_head.in_channels=256'
      ], "model.decode_head.in_channels=256 but DRN(arch='D-22', out_indices=(7,)) (the backbone) "
     'gives 16 channels at in_index=-1 (level 8); valid: model.decode_head.in_channels=16'),
    (['model.backbone.out_indices=[3,7]', 'model.decode_head.in_index=0'
      ], "model.decode_head.in_channels=16 but DRN(arch='D-22', out_indices=(3, 7)) (the backbone) "
     'gives 8 channels at in_index=0 (level 4); valid: model.decode_head.in_channels=8'),
    (['model.decode_head.in_index=2'
      ], "model.decode_head.in_index=2 is out of range: DRN(arch='D-22', out_indices=(7,)) gives 1 "
     'feature(s) ([0] level 8: 16); valid: 0..0 or -1..-1'),
])
def test_bad_model_options_fail_when_train_py_builds_the_model(train_tool, tmp_path, options,
                                                               message, demo_cityscapes_data):
    """Refused when the model is built (the backbone's options) or before the run starts (the
    heads against the backbone: DRNCheckpointHook, any Runner), never at the first forward."""
    with pytest.raises(ValueError) as info:
        train_tool.main([
            DEMO_CONFIG, '--work-dir',
            str(tmp_path), '--cfg-options', *TINY, *data_options(demo_cityscapes_data), *options
        ])
    assert message in str(info.value)
    assert not list(tmp_path.glob('*.pth'))


def test_head_mismatch_message_on_the_command_line(tmp_path, demo_cityscapes_data):
    result = run(
        tool_command('train.py', DEMO_CONFIG, '--work-dir', tmp_path, '--cfg-options', *TINY,
                     *data_options(demo_cityscapes_data), 'model.decode_head.in_channels=256'),
        check=False)
    assert result.returncode != 0
    assert ('ValueError: class `EncoderDecoder` in mmseg/models/segmentors/encoder_decoder.py: '
            not in result.stderr)  # raised after the build, by DRNCheckpointHook: no wrapping
    assert ('ValueError: model.decode_head.in_channels=256 but '
            "DRN(arch='D-22', out_indices=(7,))") in result.stderr


# ----------------------------------------------------------------------------------------------
# drn_mm.models.checks.check_head_channels on built models
# ----------------------------------------------------------------------------------------------


def _segmentor(**overrides):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({
        'model.backbone.channels': [4, 8, 8, 8, 16, 16, 16, 16],
        'model.decode_head.in_channels': 16,
        **overrides
    })
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg.model)


def test_auxiliary_heads_and_concatenated_inputs_are_checked():
    from drn_mm.models.checks import check_head_channels
    fcn = dict(type='FCNHead', channels=8, num_convs=1, num_classes=19)
    good = _segmentor(
        **{
            'model.backbone.out_indices': [5, 7],
            'model.decode_head':
            dict(_delete_=True, type='FCNHead', in_channels=[16, 16], in_index=[0, 1], channels=8,
                 num_convs=1, num_classes=19, input_transform='resize_concat'),
            'model.auxiliary_head':
            [dict(fcn, in_channels=16, in_index=0),
             dict(fcn, in_channels=16, in_index=1)]
        })
    check_head_channels(good)
    bad = _segmentor(
        **{
            'model.backbone.out_indices': [3, 7],
            'model.auxiliary_head':
            [dict(fcn, in_channels=16, in_index=1),
             dict(fcn, in_channels=16, in_index=0)]
        })
    with pytest.raises(
            ValueError, match=r'model.auxiliary_head\[1\].in_channels=16 but .* gives '
            r'8 channels at in_index=0 \(level 4\); valid: '
            r'model.auxiliary_head\[1\].in_channels=8'):
        check_head_channels(bad)
    concat = _segmentor(
        **{
            'model.backbone.out_indices': [3, 7],
            'model.decode_head':
            dict(_delete_=True, type='FCNHead', in_channels=[8, 8], in_index=[0, 1], channels=8,
                 num_convs=1, num_classes=19, input_transform='resize_concat')
        })
    with pytest.raises(
            ValueError, match=r'in_channels \(summed\) = 16 but .* gives 24 channels '
            r'at in_index=\[0, 1\] \(level 4, level 8\); '
            r'valid: model.decode_head.in_channels=\[8, 16\]'):
        check_head_channels(concat)


def test_degridding_neck_is_checked_and_its_output_feeds_the_head():
    from drn_mm.models.checks import check_head_channels
    neck = dict(type='DegriddingNeck', in_channels=16, channels=(12, 12), style='conv')
    without_78 = {
        'model.backbone.layers': [1, 1, 2, 2, 2, 2, 0, 0],
        'model.backbone.channels': [4, 8, 8, 8, 16, 16, 16, 16]
    }
    check_head_channels(
        _segmentor(**without_78, **{
            'model.neck': neck,
            'model.decode_head.in_channels': 12
        }))
    with pytest.raises(ValueError, match='model.neck.in_channels=32 but .* has 16 channels'):
        check_head_channels(
            _segmentor(
                **without_78, **{
                    'model.neck': dict(neck, in_channels=32),
                    'model.decode_head.in_channels': 12
                }))
    with pytest.raises(ValueError, match=r'in_channels=16 but .* \(the DegriddingNeck\) gives 12'):
        check_head_channels(_segmentor(**without_78, **{'model.neck': neck}))


def test_models_without_a_drn_backbone_are_not_checked():
    from drn_mm.models.checks import check_head_channels
    check_head_channels(nn.Conv2d(3, 3, 1))
    check_head_channels(nn.Module())


def test_a_checkpoint_hook_option_typo_fails_when_the_runner_is_built(train_tool, tmp_path):
    """mmengine passes unknown CheckpointHook options on to save_checkpoint: a TypeError at the
    first save, after hours of training, with no checkpoint. Now: at build, naming the option."""
    with pytest.raises(ValueError) as info:
        train_tool.main([
            DEMO_CONFIG, '--work-dir',
            str(tmp_path), '--cfg-options', *TINY, 'default_hooks.checkpoint.intervall=2'
        ])
    message = str(info.value)
    assert "default_hooks.checkpoint: unknown option(s) 'intervall' (did you mean 'interval'?)" in (
        message)
    assert not list(tmp_path.glob('**/*.log')) or 'Iter(train)' not in ''.join(
        p.read_text() for p in tmp_path.glob('**/*.log'))


def test_num_classes_zero_is_an_error_naming_the_option(train_tool, tmp_path):
    with pytest.raises(
            ValueError, match=r'model.decode_head.num_classes=0; it must be the number '
            r'of classes of the data set \(>= 1'):
        train_tool.main([
            DEMO_CONFIG, '--work-dir',
            str(tmp_path), '--cfg-options', *TINY, 'model.decode_head.num_classes=0'
        ])


def test_a_head_with_fewer_classes_than_the_data_set_is_refused_before_training(
        train_tool, tmp_path, demo_cityscapes_data):
    """Was: "Target 10 is out of bounds" from the loss, naming neither the head nor the option.
    Now refused before the first iteration (DRNCheckpointHook), naming both counts."""
    data = [
        f'{split}_dataloader.dataset.data_root={demo_cityscapes_data}'
        for split in ('train', 'val', 'test')
    ]
    workers = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
    with pytest.raises(ValueError) as info:
        train_tool.main([
            DEMO_CONFIG, '--work-dir',
            str(tmp_path), '--cfg-options', *TINY, *data, *workers, 'train_dataloader.batch_size=2',
            'model.decode_head.num_classes=5'
        ])
    message = str(info.value)
    assert ('model.decode_head.num_classes=5 but the train data set (CityscapesDataset) declares '
            '19 classes') in message
    assert not list(tmp_path.glob('*.pth'))


def test_labels_beyond_a_head_name_num_classes_and_the_label_file():
    """The per-batch check (LabelsFitHeadsHook, run by DRNCheckpointHook): a label map holding a
    class the head does not have (a data set declaring fewer classes than its files hold)."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from drn_mm.engine.label_check import LabelsFitHeadsHook

    class Head(nn.Module):
        num_classes, ignore_index = 5, 255

    class Model(nn.Module):

        def __init__(self):
            super().__init__()
            self.decode_head = Head()

    class Runner:
        model = Model()
        train_dataloader = None

    sample = SegDataSample(metainfo=dict(seg_map_path='a_gtFine_labelTrainIds.png'))
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 10], [255, 3]]]))
    with pytest.raises(ValueError) as info:
        LabelsFitHeadsHook().before_train_iter(Runner(), 0, dict(data_samples=[sample]))
    message = str(info.value)
    assert 'model.decode_head.num_classes=5 but label map a_gtFine_labelTrainIds.png holds class ' \
        '10' in message


def test_config_file_errors_name_the_file(tmp_path):
    from drn_mm.apis import load_config, read_config
    bad = tmp_path / 'bad_syntax.py'
    bad.write_text("model = dict(type='X'\nfoo = 1\n")
    with pytest.raises(SyntaxError, match=f'{bad}, line 1'):
        read_config(str(bad))
    empty = tmp_path / 'no_model.py'
    empty.write_text('foo = 1\n')
    with pytest.raises(KeyError, match=f'{empty} defines no model'):
        load_config(str(empty))


def test_top_level_cfg_options_typos_are_warned_about():
    from drn_mm.apis import read_config
    with pytest.warns(
            UserWarning, match="--cfg-options trian_cfg.max_iters: .* has no 'trian_cfg' "
            r"\(did you mean 'train_cfg'\?\)"):
        cfg = read_config(DEMO_CONFIG, {'trian_cfg.max_iters': 10})
    assert cfg.trian_cfg.max_iters == 10  # still mmengine's behaviour: added, but said


def test_save_best_names_a_metric_the_evaluator_reports(train_tool, tmp_path, demo_cityscapes_data):
    """Was: a KeyError after the first validation. Now before the run, with the evaluator's
    names."""
    with pytest.raises(ValueError) as info:
        train_tool.main([
            DEMO_CONFIG, '--work-dir',
            str(tmp_path), '--cfg-options', *TINY, *data_options(demo_cityscapes_data),
            'default_hooks.checkpoint.save_best=miou'
        ])
    assert ("default_hooks.checkpoint.save_best='miou' (did you mean 'mIoU'?): the evaluator "
            "reports ['aAcc', 'mAcc', 'mIoU']") in str(info.value)


def test_metric_names_of_known_evaluators():
    from drn_mm.engine.label_check import evaluator_metric_names
    assert evaluator_metric_names(dict(type='IoUMetric', iou_metrics=['mIoU', 'mFscore'])) == [
        'aAcc', 'mAcc', 'mIoU', 'mFscore', 'mPrecision', 'mRecall'
    ]
    assert evaluator_metric_names(dict(type='Accuracy',
                                       topk=(1, 5))) == ['accuracy/top1', 'accuracy/top5']
    assert evaluator_metric_names(dict(type='SomethingElse')) is None

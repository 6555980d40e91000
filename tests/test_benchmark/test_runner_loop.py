"""The benchmark's ``train_py`` loop: the whole Runner of tools/train.py, timed per iteration."""
import os.path as osp

import pytest
import torch

from drn_mm.apis import read_config as load_benchmark_config
from drn_mm.benchmark import BenchmarkSettings, measure_training, parse_mode
from drn_mm.benchmark.runner_loop import build_train_py_runner, measure_train_py
from drn_mm.datasets import InMemorySegDataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DRN = osp.join(REPO, 'configs/drn/drn_d_22_cityscapes.py')


def settings(**kw):
    values = dict(
        train_size=(16, 32), train_batch=2, warmup=2, repeats=3, train_iters=2, train_workers=0)
    values.update(kw)
    return BenchmarkSettings(**values)


def test_in_memory_dataset_packs_like_pack_seg_inputs():
    ds = InMemorySegDataset((16, 32), num_classes=5, num_distinct=3, length=10)
    assert len(ds) == 10
    sample = ds[4]
    assert sample['inputs'].shape == (3, 16, 32) and sample['inputs'].dtype == torch.uint8
    labels = sample['data_samples'].gt_sem_seg.data
    assert labels.shape == (1, 16, 32)
    assert set(labels.unique().tolist()) <= set(range(5)) | {255}
    assert torch.equal(ds[1]['inputs'], ds[4]['inputs'])  # 3 distinct samples, cycled
    assert not torch.equal(ds[0]['inputs'], ds[1]['inputs'])
    with pytest.raises(ValueError, match='size must be'):
        InMemorySegDataset((16, ), num_classes=5)
    with pytest.raises(ValueError, match='num_classes=0'):
        InMemorySegDataset((16, 32), num_classes=0)


def test_train_py_runner_is_the_runner_tools_train_builds(tmp_path):
    from mmengine.runner import Runner
    cfg = load_benchmark_config(DRN)
    runner, timer = build_train_py_runner(cfg, parse_mode('amp_cl'), 2, settings(), str(tmp_path))
    assert type(runner) is Runner  # mmengine's own, as tools/train.py builds it
    hooks = [type(h).__name__ for h in runner.hooks]
    for hook in ('IterTimerHook', 'LoggerHook', 'ParamSchedulerHook', 'DistSamplerSeedHook',
                 'DRNSegVisualizationHook', 'ChannelsLastHook'):
        assert hook in hooks, hooks
    assert not any('Checkpoint' in h for h in hooks)  # nothing written
    assert hooks[-1] == '_WindowTimer'  # lowest priority: after every other hook of an iteration
    assert runner.cfg.optim_wrapper.type == 'BF16OptimWrapper'  # what tools/train.py --amp picks

    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    assert timer.count == 2 + 3 * 2 == runner.iter
    assert len(timer.per_iter_s()) == 3 and all(t > 0 for t in timer.per_iter_s())
    assert timer.first_call_s > 0
    loader = runner.train_dataloader
    assert loader.batch_size == 2 and isinstance(loader.dataset, InMemorySegDataset)
    assert loader.dataset.inputs[0].shape == (3, 16, 32)
    assert type(runner.optim_wrapper).__name__ == 'BF16OptimWrapper'
    conv = runner.model.backbone.layer0[0].weight if hasattr(runner.model.backbone, 'layer0') \
        else next(p for p in runner.model.backbone.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last)
    after = runner.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # it trained
    data_time = runner.message_hub.get_scalar('train/data_time').data[0]
    assert len(data_time) == 8  # IterTimerHook ran every iteration


def test_train_py_compile_and_fp32_modes_set_the_config(tmp_path):
    cfg = load_benchmark_config(DRN)
    runner, _ = build_train_py_runner(cfg, parse_mode('fp32_compile'), 3, settings(), str(tmp_path))
    assert runner.cfg.compile == dict(backend='inductor', mode=None, dynamic=False)
    assert runner.cfg.optim_wrapper.type == 'OptimWrapper'
    assert runner.cfg.train_cfg.max_iters == 2 + 3 * 2
    assert runner.cfg.train_dataloader.batch_size == 3
    assert 'ChannelsLastHook' not in [type(h).__name__ for h in runner.hooks]
    # the caller's config is left as it was
    assert cfg.train_dataloader.batch_size == 4 and 'compile' not in cfg
    assert cfg.train_dataloader.dataset.type == 'CityscapesDataset'


def test_measure_train_py_row():
    cfg = load_benchmark_config(DRN)
    row = measure_train_py(cfg, parse_mode('fp32'), torch.device('cpu'), settings(repeats=2))
    assert row['status'] == 'ok' and row['batch'] == 2
    ms = row['step_ms']
    assert len(ms['samples']) == 2 and 0 < ms['min'] <= ms['median'] <= ms['max']
    assert row['throughput_ips'] == pytest.approx(2 / (ms['median'] / 1e3))
    assert 0 <= row['data_ms'] < ms['median']
    fp16 = measure_training(None, cfg, parse_mode('fp16'), 'train_py', torch.device('cpu'),
                            settings())
    assert fp16['status'] == 'skipped' and 'GPU' in fp16['reason']


def test_train_py_trains_a_classifier_through_its_runner(tmp_path):
    from drn_mm.datasets import InMemoryClsDataset
    cfg = load_benchmark_config(osp.join(REPO, 'configs/drn/drn-c-26_8xb32_in1k.py'))
    runner, timer = build_train_py_runner(cfg, parse_mode('fp32'), 2,
                                          settings(train_size=(32, 32), repeats=2, train_iters=1),
                                          str(tmp_path))
    hooks = [type(h).__name__ for h in runner.hooks]
    assert 'VisualizationHook' in hooks and 'IterTimerHook' in hooks  # mmpretrain's runtime
    runner.train()
    assert timer.count == 2 + 2 == runner.iter and len(timer.per_iter_s()) == 2
    dataset = runner.train_dataloader.dataset
    assert isinstance(dataset, InMemoryClsDataset)
    sample = dataset[0]['data_samples']
    assert sample.gt_label.shape == (1, ) and 0 <= int(sample.gt_label) < 1000
    with pytest.raises(ValueError, match='InMemoryClsDataset: size must be'):
        InMemoryClsDataset((32, ), num_classes=5)

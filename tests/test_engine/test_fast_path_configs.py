"""The fast-path configs (AMP, channels_last, torch.compile) build, and run through the Runner."""
import os.path as osp
import time

import pytest
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

AMP_CONFIGS = [
    'configs/drn/drn_d_22_cityscapes_amp.py', 'configs/drn/drn_d_22_cityscapes_amp_compile.py',
    'configs/drn/fcn_drn-d-22-d8_4xb2-amp-40k_cityscapes-512x1024.py'
]
TINY_MODEL = {
    'model.backbone.channels': (4, 8, 8, 8, 16, 16, 16, 16),
    'model.decode_head.in_channels': 16
}


def tiny_runner_cfg(config, data_root, work_dir, max_iters=2):
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(TINY_MODEL)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    return cfg


@pytest.mark.parametrize('config', AMP_CONFIGS)
def test_amp_configs_say_bf16_channels_last(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'  # the recipe's optimizer is kept
    assert cfg.val_cfg.type == 'AmpValLoop' and cfg.test_cfg.type == 'AmpTestLoop'
    assert [h['type'] for h in cfg.custom_hooks] == ['AverageLossOverRanksHook', 'ChannelsLastHook']
    assert cfg.get('compile', None) is (True if 'compile' in config else None)


@pytest.mark.parametrize('config', AMP_CONFIGS)
def test_amp_configs_build_a_runner(config, tmp_path):
    from drn_mm.apis import build_runner
    from drn_mm.engine import ChannelsLastHook
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(TINY_MODEL if 'fcn' not in config else {})
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = build_runner(cfg)
    assert any(isinstance(h, ChannelsLastHook) for h in runner.hooks)
    from drn_mm.engine import BF16OptimWrapper
    assert isinstance(runner.build_optim_wrapper(runner.cfg.optim_wrapper), BF16OptimWrapper)


def test_amp_test_loop_autocasts_to_bf16_on_cpu(demo_cityscapes_data, tmp_path):
    """AmpTestLoop runs the model under bf16 autocast (CPU here) and still evaluates."""
    from drn_mm.apis import build_runner
    cfg = tiny_runner_cfg('configs/drn/drn_d_22_cityscapes_amp.py', demo_cityscapes_data, tmp_path)
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer)
    runner = build_runner(cfg)
    seen = []
    model = runner.model
    model.decode_head.conv_seg.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    metrics = runner.test()
    assert 'mIoU' in metrics
    assert seen and set(seen) == {torch.bfloat16}
    # the ChannelsLastHook converted the model before the run
    assert model.backbone.stem[0].weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.slow  # about 110 s on 2 busy cores, nearly all of it inductor compiling
def test_compile_trains_through_the_runner_on_cpu(demo_cityscapes_data, tmp_path):
    """compile=True (mmengine Runner's option) with channels_last: 2 training iterations on CPU
    with inductor, then validation; the loss is finite and a checkpoint is written."""
    from torch._dynamo.utils import counters

    from drn_mm.apis import build_runner
    torch._dynamo.reset()
    counters.clear()
    cfg = tiny_runner_cfg('configs/drn/drn_d_22_cityscapes_amp_compile.py', demo_cityscapes_data,
                          tmp_path)
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer)
    assert cfg.compile is True
    runner = build_runner(cfg)
    start = time.perf_counter()
    runner.train()
    elapsed = time.perf_counter() - start
    assert 'train_step' in vars(runner.model)  # the Runner replaced it with the compiled one
    assert counters['stats']['unique_graphs'] > 0  # and dynamo did compile graphs
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    losses = [v for k, v in runner.message_hub.log_scalars.items() if k == 'train/loss']
    assert losses and all(torch.isfinite(torch.tensor(b.current())) for b in losses)
    print(f'compiled training + validation took {elapsed:.1f} s')

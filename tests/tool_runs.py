"""Runs of the tools on tiny generated data: the set-ups (tiny DRN-D-22, short schedules), the
subprocess runner, comparisons."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'drn_d_22_demo_cityscapes-128x256.py')

#: 1 process x batch 4 and 2 processes x batch 2 see the same global batches: shuffle off
#: (InfiniteSampler deals the stream 0, 1, 2, ... to the ranks in turn), no random flip, SyncBN
#: (reverted to BN in one process), the same seed, deterministic algorithms.
GLOBAL_BATCH = 4
MAX_ITERS = 8

#: 1 vs 2 processes: every element of the final checkpoint (weights and BN statistics) within
#: |w2 - w1| <= WEIGHT_ATOL + WEIGHT_RTOL * |w1|; logged losses |l2 - l1| <= LOSS_RTOL * l1.
#: The runs are in float64 (drn_mm.engine.model_dtype): the two differ only in the
#: order of sums (per-rank batches, all-reduces), whose rounding is ~1e-16 relative in float64.
#: Eight SGD steps of this net amplify a relative perturbation by about 1e4-1e5 (measured in
#: float32: rounding ~6e-8 grew to 1.8e-3 in running_var on an AVX-512 CPU), so float64 runs agree
#: to ~1e-11; the bounds below leave a factor of >= 100 on top of that, and stay 1e4 below the
#: float32 differences (this comparison in float32 fails on some CPUs: it is not machine-proof).
WEIGHT_RTOL, WEIGHT_ATOL = 1e-9, 1e-10
LOSS_RTOL = 1e-9


def train_options(data_root, batch_size=GLOBAL_BATCH, max_iters=MAX_ITERS, interval=2, keep=2):
    """--cfg-options for a tiny, deterministic DRN-D-22 run on the demo data."""
    return [
        'model.backbone.channels=[4,8,8,8,16,16,16,16]',
        'model.decode_head.in_channels=16',
        'model.backbone.norm_cfg.type=SyncBN',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.sampler.shuffle=False',
        'train_dataloader.dataset.pipeline.2.prob=0.0',  # RandomFlip of the demo config
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        'param_scheduler.0.start_factor=1.0',
        'param_scheduler.0.end=1',
        'param_scheduler.1.begin=1',
        f'param_scheduler.1.end={max_iters}',
        'default_hooks.logger.interval=1',
        f'default_hooks.checkpoint.interval={interval}',
        f'default_hooks.checkpoint.max_keep_ckpts={keep}',
        'randomness.seed=0',
        'randomness.deterministic=True',
        'env_cfg.dist_cfg.backend=gloo',
        # float64 (drn_mm.engine.model_dtype): a hook in one process, the DDP wrapper in two
        'default_hooks.model_dtype.type=ModelDtypeHook',
        'default_hooks.model_dtype.dtype=float64',
        'model_wrapper_cfg.model_dtype=float64'
    ]


def tool_command(script, *args):
    return [sys.executable, osp.join(REPO, 'tools', script), *map(str, args)]


def run(cmd, check=True, env=None, timeout=300):
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=full_env,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f'{cmd[:4]} failed ({result.returncode}):\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-6000:]}')
    return result


def load_state(path):
    import drn_mm  # noqa: F401  (allow-lists mmengine's types for weights_only)
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def compare_weights(expected, actual, rtol, atol, equal_integers=True):
    """Elementwise ``|a - e| <= atol + rtol * |e|`` over the float tensors (as
    ``torch.testing.assert_close``). Returns (worst ratio of |a - e| to that bound, its key,
    max |a - e|): the tolerance holds when the ratio is <= 1. Integer tensors (BN's
    num_batches_tracked) must be equal if ``equal_integers``."""
    assert set(expected) == set(actual)
    worst, worst_key, max_abs = 0.0, None, 0.0
    for key, e in expected.items():
        a = actual[key]
        if not e.is_floating_point():
            assert torch.equal(e, a) or not equal_integers, key
            continue
        diff = (a - e).abs()
        ratio = (diff / (atol + rtol * e.abs())).max().item()
        max_abs = max(max_abs, diff.max().item())
        if ratio > worst:
            worst, worst_key = ratio, key
    return worst, worst_key, max_abs


def train_losses(work_dir):
    """iteration -> logged loss, from mmengine's vis_data/scalars.json of the (only) run."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, files
    losses = {}
    with open(files[0]) as f:
        for line in f:
            record = json.loads(line)
            if 'loss' in record:
                losses[record['iter']] = record['loss']
    return losses


def val_metrics(work_dir):
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(files[0]) as f:
        return [json.loads(line) for line in f if 'mIoU' in line][-1]


#: a tiny DRN-D-22 and a short schedule on the tiny generated data
TINY = [
    'model.backbone.channels=[4,8,8,8,16,16,16,16]', 'model.decode_head.in_channels=16',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1'
]


def tiny_options(data_root, max_iters=4, checkpoint_interval=2):
    return TINY + [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}', f'param_scheduler.1.end={max_iters}',
        'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        f'default_hooks.checkpoint.interval={checkpoint_interval}'
    ]


def run_tool(script, *args, check=True):
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', script), *map(str, args)], capture_output=True,
        text=True, cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(f'{script} failed ({result.returncode}):\n{result.stdout[-3000:]}\n'
                             f'{result.stderr[-5000:]}')
    return result


def runner_log(runner) -> str:
    """What an in-process runner's logger wrote to its file. (mmengine reuses a logger of the same
    experiment name, i.e. config and second, so the file may lie under an earlier run's work dir:
    ask the logger, not the work dir.)"""
    import logging
    files = [h.baseFilename for h in runner.logger.handlers if isinstance(h, logging.FileHandler)]
    assert files, 'the runner logs to no file'
    with open(files[-1]) as f:
        return f.read()

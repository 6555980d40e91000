"""2 processes on the CPU (gloo) through tools/dist_train.sh and tools/dist_test.sh, compared with
one process holding the same global batch; the CPU pieces of drn_mm.engine.distributed."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from helpers import free_port, run_two_ranks
from tool_runs import (DEMO_CONFIG, GLOBAL_BATCH, LOSS_RTOL, MAX_ITERS, REPO, WEIGHT_ATOL,
                       WEIGHT_RTOL, compare_weights, load_state, run, train_losses, train_options,
                       val_metrics)

NPROC = 2


def dist_command(script, *args):
    return [
        'bash',
        osp.join(REPO, 'tools', script), '--master-addr', '127.0.0.1', '--master-port',
        str(free_port()), *map(str, args)
    ]


@pytest.fixture(scope='module')
def two_process_run(tmp_path_factory, demo_cityscapes_data):
    work = tmp_path_factory.mktemp('dist')
    result = run(
        dist_command('dist_train.sh', DEMO_CONFIG, NPROC, '--work-dir', work, '--cfg-options',
                     *train_options(demo_cityscapes_data, GLOBAL_BATCH // NPROC)),
        env=dict(PYTHON=sys.executable))
    return str(work), result


@pytest.mark.slow
def test_two_processes_train_validate_and_only_rank0_writes(two_process_run):
    work, result = two_process_run
    files = sorted(
        osp.relpath(p, work) for p in glob.glob(osp.join(work, '**'), recursive=True)
        if osp.isfile(p))
    timestamp = files[0].split(os.sep)[0]
    # the val pictures (DRNSegVisualizationHook), written by rank 0's visualizer only
    pictures = [f for f in files if f.startswith(f'{timestamp}/vis_data/vis_image/')]
    assert pictures and all(osp.basename(f).startswith('val_') for f in pictures), pictures
    files = [f for f in files if f not in pictures]
    assert files == [
        f'{timestamp}/{timestamp}.log', f'{timestamp}/vis_data/{timestamp}.json',
        f'{timestamp}/vis_data/config.py', f'{timestamp}/vis_data/scalars.json',
        'drn_d_22_demo_cityscapes-128x256.py', f'iter_{MAX_ITERS - 2}.pth', f'iter_{MAX_ITERS}.pth',
        'last_checkpoint'
    ], files  # no per-rank logs, no temp files
    log = open(osp.join(work, timestamp, f'{timestamp}.log')).read()
    assert 'Distributed launcher: pytorch' in log and 'Distributed training: True' in log
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log and 'mIoU' in log
    # SyncBN ran synchronized on the CPU (DDP refuses torch's SyncBatchNorm there)
    assert 'SyncBatchNorm expected input tensor to be on GPU' not in result.stderr


@pytest.mark.slow
def test_two_processes_match_one_process_with_the_same_global_batch(two_process_run, reference_run):
    work, _ = two_process_run
    one, two = train_losses(reference_run), train_losses(work)
    assert sorted(one) == sorted(two) == list(range(1, MAX_ITERS + 1))
    for step in one:
        assert abs(one[step] - two[step]) <= LOSS_RTOL * abs(one[step]), (step, one, two)
    assert one[MAX_ITERS] < one[1]  # it learned something: the comparison is not of idle weights
    final = f'iter_{MAX_ITERS}.pth'
    ratio, key, max_abs = compare_weights(
        load_state(osp.join(reference_run, final)), load_state(osp.join(work, final)), WEIGHT_RTOL,
        WEIGHT_ATOL)
    print(f'1 vs 2 processes: weights max |diff| {max_abs:.1e}, {ratio:.3f} of the tolerance '
          f'({key}); losses max relative diff '
          f'{max(abs(one[s] - two[s]) / one[s] for s in one):.1e}')
    assert ratio <= 1, (ratio, key, max_abs)
    # and the last two iterations alone moved the weights far beyond that tolerance
    start = load_state(osp.join(reference_run, f'iter_{MAX_ITERS - 2}.pth'))
    moved, _, _ = compare_weights(start, load_state(osp.join(reference_run, final)), WEIGHT_RTOL,
                                  WEIGHT_ATOL, equal_integers=False)
    assert moved > 100


@pytest.mark.slow
@pytest.mark.parametrize('rendezvous', ['c10d'])
def test_two_nodes_of_one_process_match_one_process(reference_run, demo_cityscapes_data, tmp_path,
                                                    rendezvous):
    """2 nodes x 1 process on localhost through tools/dist_train.sh as the README launches
    nodes (NNODES, NODE_RANK, MASTER_ADDR, PORT; torchrun's c10d rendezvous): the same float64
    weights as one process with the same global batch."""
    port = free_port()
    work = tmp_path / 'two_nodes'
    nodes = []
    for rank in range(2):
        env = dict(os.environ, PYTHON=sys.executable, NNODES='2', NODE_RANK=str(rank),
                   MASTER_ADDR='127.0.0.1', PORT=str(port), RDZV=rendezvous, RDZV_ID=f'test_{port}')
        nodes.append(
            subprocess.Popen([
                'bash',
                osp.join(REPO, 'tools', 'dist_train.sh'), DEMO_CONFIG, '1', '--work-dir',
                str(work), '--cfg-options', *train_options(demo_cityscapes_data, GLOBAL_BATCH // 2)
            ], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [node.communicate(timeout=900) for node in nodes]
    for node, (out, err) in zip(nodes, outputs):
        assert node.returncode == 0, (out[-2000:], err[-4000:])
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert 'Distributed training: True' in log  # and batch 2 per rank matched the global 4:
    one, two = train_losses(reference_run), train_losses(str(work))
    assert sorted(two) == list(range(1, MAX_ITERS + 1))
    for step in one:
        assert abs(one[step] - two[step]) <= LOSS_RTOL * abs(one[step]), (step, one, two)
    final = f'iter_{MAX_ITERS}.pth'
    ratio, key, max_abs = compare_weights(
        load_state(osp.join(reference_run, final)), load_state(str(work / final)), WEIGHT_RTOL,
        WEIGHT_ATOL)
    assert ratio <= 1, (ratio, key, max_abs)


@pytest.mark.slow
def test_dist_test_evaluates_with_two_processes(two_process_run, demo_cityscapes_data, tmp_path):
    work, _ = two_process_run
    result = run(
        dist_command('dist_test.sh', DEMO_CONFIG, osp.join(work, f'iter_{MAX_ITERS}.pth'), NPROC,
                     '--work-dir', tmp_path, '--cfg-options',
                     *train_options(demo_cityscapes_data, GLOBAL_BATCH // NPROC)),
        env=dict(PYTHON=sys.executable))
    metrics = json.loads([line for line in result.stdout.splitlines() if line.startswith('{')][-1])
    assert metrics['mIoU'] == pytest.approx(val_metrics(work)['mIoU'], abs=1e-6)
    assert len(glob.glob(str(tmp_path / '*' / '*.log'))) == 1


def test_cpu_sync_batchnorm_is_batchnorm_in_one_process():
    from drn_mm.engine.distributed import CPUSyncBatchNorm, convert_sync_batchnorm_for_cpu
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4), nn.ReLU())
    reference = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    reference.load_state_dict(model.state_dict())
    weight = model[1].weight
    model = convert_sync_batchnorm_for_cpu(model)
    assert isinstance(model[1], CPUSyncBatchNorm) and model[1].weight is weight
    # float64: two summation orders agree to ~1e-16, so the default float64 tolerances of
    # assert_close (rtol 1e-7, atol 1e-7) hold on any CPU; float32's would depend on the kernels
    model, reference = model.double(), reference.double()
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(model(x), reference(x))
    torch.testing.assert_close(model[1].running_var, reference[1].running_var)


def _sync_bn_worker(rank, port, x, queue):
    import importlib.util

    import torch.distributed as dist

    # the module alone, not the drn_mm package (mmseg's imports would double the test's time)
    spec = importlib.util.spec_from_file_location(
        'cpu_sync_bn', osp.join(REPO, 'drn_mm', 'engine', 'distributed.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    CPUSyncBatchNorm = module.CPUSyncBatchNorm
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    bn = CPUSyncBatchNorm(3).double()
    bn.weight.data = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    local = x[rank * 2:(rank + 1) * 2].clone().requires_grad_()
    out = bn(local)
    (out * torch.arange(out.numel()).view_as(out).double()).sum().backward()
    queue.put((rank, out.detach(), local.grad, bn.running_mean, bn.running_var, bn.weight.grad))
    dist.destroy_process_group()


def test_cpu_sync_batchnorm_over_two_ranks_equals_batchnorm_over_the_whole_batch():
    torch.manual_seed(0)  # float64, as the test above
    x = torch.randn(4, 3, 5, 6, dtype=torch.float64)
    results = run_two_ranks(_sync_bn_worker, x, timeout=120)
    bn = nn.BatchNorm2d(3).double()
    bn.weight.data = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    whole = x.clone().requires_grad_()
    out = bn(whole)
    weights = torch.cat([torch.arange(out[:2].numel()).view_as(out[:2]).double()] * 2)
    (out * weights).sum().backward()
    torch.testing.assert_close(torch.cat([results[0][0], results[1][0]]), out.detach())
    torch.testing.assert_close(torch.cat([results[0][1], results[1][1]]), whole.grad)
    for rank in (0, 1):
        torch.testing.assert_close(results[rank][2], bn.running_mean)
        torch.testing.assert_close(results[rank][3], bn.running_var)
    # DDP would average the ranks' weight gradients: their sum is the whole batch's
    torch.testing.assert_close(results[0][4] + results[1][4], bn.weight.grad)


def test_slurm_train_script_runs_train_py_with_the_slurm_launcher(tmp_path):
    fake = tmp_path / 'srun'
    fake.write_text('#!/usr/bin/env bash\necho "srun $*"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ['bash',
         osp.join(REPO, 'tools', 'slurm_train.sh'), 'gpu', 'job', DEMO_CONFIG, '--resume'],
        capture_output=True, text=True,
        env=dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}', GPUS='16', PYTHON='mypython'))
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith('srun -p gpu --job-name=job --gres=gpu:8 --ntasks=16')
    assert line.endswith(f'mypython -u {REPO}/tools/train.py {DEMO_CONFIG} --launcher slurm '
                         '--resume')


def test_cpu_process_group_from_slurm_environment(monkeypatch):
    import torch.distributed as dist

    from drn_mm.engine.distributed import init_cpu_process_group
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '0')
    monkeypatch.setenv('SLURM_NTASKS', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'node1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    init_cpu_process_group('slurm', backend='nccl', timeout=60)  # nccl -> gloo without GPUs
    try:
        assert dist.get_backend() == 'gloo' and dist.get_world_size() == 1
        assert os.environ['RANK'] == '0' and os.environ['LOCAL_RANK'] == '0'
    finally:
        dist.destroy_process_group()


def test_launch_scripts_pass_arguments_in_order_and_reject_missing_ones(tmp_path):
    fake = tmp_path / 'srun'
    fake.write_text('#!/usr/bin/env bash\necho "srun $*"\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}', PYTHON='echo')

    def launch(script, *args):
        return subprocess.run(['bash', osp.join(REPO, 'tools', script), *args], capture_output=True,
                              text=True, env=env)

    result = launch('slurm_test.sh', 'gpu', 'job', 'cfg.py', 'ckpt.pth', '--tta')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(
        f'echo -u {REPO}/tools/test.py cfg.py ckpt.pth --launcher slurm --tta')
    result = launch('dist_test.sh', '--master-port', '1234', 'cfg.py', 'ckpt.pth', '3', '--tta')
    assert result.returncode == 0, result.stderr
    assert '--nproc_per_node=3 --master_port=1234' in result.stdout
    assert result.stdout.strip().endswith(
        f'{REPO}/tools/test.py cfg.py ckpt.pth --launcher pytorch --tta')
    result = launch('dist_train.sh', 'cfg.py', '2', '--amp')
    assert result.stdout.strip().endswith(f'{REPO}/tools/train.py cfg.py --launcher pytorch --amp')
    for script, args, message in [
        ('dist_test.sh', ['cfg.py', 'ckpt.pth'], 'dist_test.sh: expected 2 argument(s) for '
         'test.py, then GPUS_PER_NODE'),
        ('dist_train.sh', ['--nodes', '2', 'cfg.py', '2'], 'dist_train.sh: unknown option '
         '--nodes'),
        ('slurm_train.sh', ['gpu', 'job'], 'slurm_train.sh: expected PARTITION JOB_NAME and 1 '
         'argument(s) for train.py')
    ]:
        result = launch(script, *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr

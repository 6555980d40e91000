"""Shared test helpers (imported by tests; pytest collects nothing here).

drn_mm is imported inside the helpers that need it: spawned test workers import their test
module, and with it this one, and some of them must stay light.
"""
import os.path as osp

import torch

#: outputs of the authors' code (data, not code): tests/data/README.md says how each was made
FIXTURES = osp.join(osp.dirname(osp.abspath(__file__)), 'data')


def fixture_path(name):
    path = osp.join(FIXTURES, name)
    if not osp.exists(path):
        raise FileNotFoundError(f'{path} is missing: the tests read their fixtures from tests/data '
                                '(part of the repository)')
    return path


def build_fixture_backbone(entry, **kwargs):
    """DRN of a fixture entry's architecture, with the fixture's weights, in eval mode."""
    from drn_mm.models import DRN
    from drn_mm.models.backbones.drn_checkpoint import convert_drn_state_dict
    preset = {
        ('C', 'BasicBlock'): 'C-26',
        ('C', 'Bottleneck'): 'C-58',
        ('D', 'BasicBlock'): 'D-22',
        ('D', 'Bottleneck'): 'D-54'
    }[(entry['arch'], entry['block'])]
    kwargs.setdefault('out_indices', tuple(range(8)))
    model = DRN(arch=preset, channels=entry['channels'], layers=entry['layers'], **kwargs)
    state = convert_drn_state_dict(entry['state_dict'])
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    model.load_state_dict(backbone, strict=True)
    return model.eval(), state


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def reference_checkpoint_from_key_table(key_table, seed=0, with_num_batches_tracked=True):
    """A checkpoint in the authors' layout: random tensors of the official keys and shapes."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in key_table['state_dict'].items():
        if key.endswith('num_batches_tracked'):
            if with_num_batches_tracked:
                state[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen)
    return state


def assert_close_scaled(actual, expected, tol=1e-5, what=''):
    """max |actual - expected| <= tol * max |expected|.

    The parity tests run drn_mm in float64 against the authors' outputs, which their code computed
    in float32 (tests/data): the difference is then the reference's own float32 rounding
    and nothing of this machine's kernels (float32 kernels differ between AVX2, AVX-512 and AMX
    CPUs). For these tiny nets that rounding is a few hundred ulps of float32 (6e-8) at the
    tensor's scale (measured: 1.4e-6 at worst over the fixture's 40 level outputs); tol 1e-5
    leaves a factor of 7.
    """
    assert actual.shape == expected.shape, f'{what}: shape {actual.shape} vs {expected.shape}'
    expected = expected.to(actual.dtype)
    scale = expected.abs().max().clamp_min(1e-12)
    err = (actual - expected).abs().max() / scale
    assert err <= tol, f'{what}: max abs diff {err.item():.3g} x scale {scale.item():.3g}'


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class _BytesQueue:
    """What a rank's worker puts on the queue, pickled to bytes first: a tensor put on a
    torch.multiprocessing queue as it is travels as a file descriptor that the sending process
    hands over only while it lives, and a rank that exits right after ``put`` (they do) loses it
    (FileNotFoundError in the parent's ``get`` under load)."""

    def __init__(self, queue):
        self.queue = queue

    def put(self, item):
        import pickle
        self.queue.put(pickle.dumps(item))


def _rank_main(worker, rank, port, args, queue):
    worker(rank, port, *args, _BytesQueue(queue))


def run_two_ranks(worker, *args, timeout=300):
    """Run ``worker(rank, port, *args, queue)`` in two spawned processes (a gloo group on
    ``port``); each puts ``(rank, ...)`` on the queue. Returns ``{rank: (...)}`` once both exit
    cleanly."""
    import pickle

    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = free_port()
    procs = [
        ctx.Process(target=_rank_main, args=(worker, rank, port, args, queue)) for rank in range(2)
    ]
    for p in procs:
        p.start()
    items = [pickle.loads(queue.get(timeout=timeout)) for _ in procs]
    results = {item[0]: item[1:] for item in items}
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return results


def without_scope(value):
    """A config value without the ``_scope_`` marks mmengine adds to the entries of
    ``mmseg::`` / ``mmpretrain::`` bases."""
    if isinstance(value, dict):
        return {k: without_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [without_scope(v) for v in value]
    return value


def named_by_sha(path, stem=None):
    """Rename ``path`` to ``<stem>-<first 8 hex of its SHA-256>.pth`` (the authors' naming, which
    drn_mm's loaders check); returns the new path."""
    import hashlib
    import os
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stem = stem or osp.splitext(osp.basename(str(path)))[0]
    target = osp.join(osp.dirname(str(path)), f'{stem}-{digest[:8]}.pth')
    os.replace(str(path), target)
    return target


def to_reference_seg_layout(state_dict, style):
    """Write a drn_mm segmentor's weights the way the authors' DRNSeg stores them
    (the paper, section 4; the authors' segment.py), with the `module.` prefix of their training
    checkpoints."""
    from drn_mm.benchmark.reference_model import authors_state_dict
    return {'module.' + k: v for k, v in authors_state_dict(state_dict, style).items()}

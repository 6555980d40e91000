import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def tiny_cityscapes(tmp_path_factory):
    """A tiny Cityscapes-layout dataset (4 train, 2 val images of 64x128)."""
    from drn_mm.datasets import generate_demo_cityscapes
    root = tmp_path_factory.mktemp('perf_data') / 'cityscapes'
    generate_demo_cityscapes(str(root), num_train=4, num_val=2, size=(64, 128), seed=3)
    return str(root)

import json

import pytest
import torch
from helpers import FIXTURES, assert_close_scaled, fixture_path  # noqa: F401  (re-exported)


def pytest_addoption(parser):
    parser.addoption(
        '--run-slow', action='store_true',
        help='also run the tests marked slow (end-to-end runs of a minute or more); '
        'tools/run_tests.sh adds it under CI=true')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--run-slow'):
        return
    skip = pytest.mark.skip(reason='slow: run with --run-slow (CI runs them)')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)


#: fixture model -> the drn_mm preset of the same style and block (layers/channels overridden)
FIXTURE_PRESETS = {'C-26': 'C-26', 'C-58': 'C-58', 'D-22': 'D-22', 'D-24': 'D-24', 'D-54': 'D-54'}


@pytest.fixture(scope='session')
def tiny_reference():
    """The reference models of official_drn_tiny.pt (see tests/data/README.md)."""
    return torch.load(fixture_path('official_drn_tiny.pt'), weights_only=True)


@pytest.fixture(scope='session')
def official_keys():
    with open(fixture_path('official_drn_keys.json')) as f:
        return json.load(f)


@pytest.fixture(scope='session')
def demo_cityscapes_data(tmp_path_factory):
    """A tiny Cityscapes-layout dataset (6 train, 3 val images of 64x128), generated once."""
    from drn_mm.demo.cityscapes import generate_demo_cityscapes
    root = tmp_path_factory.mktemp('demo_cityscapes_data') / 'cityscapes'
    generate_demo_cityscapes(str(root), num_train=6, num_val=3, size=(64, 128), seed=1)
    return str(root)

"""DRNSegVisualizationHook draws about max_images pictures per val/test pass, whatever the data
size (mmseg's hook, every 50th image, draws none of a 20-image val set)."""
import pytest

from drn_mm.engine import DRNSegVisualizationHook


@pytest.fixture(autouse=True, scope='module')
def visualizer():
    from mmseg.visualization import SegLocalVisualizer
    return SegLocalVisualizer.get_instance('test_visualization_hook')


class Runner:

    def __init__(self, val, test):
        self.val_dataloader, self.test_dataloader = list(range(val)), list(range(test))


@pytest.mark.parametrize('batches,max_images,interval,drawn', [(20, 8, 3, 6), (500, 8, 63, 7),
                                                               (5, 8, 1, 5), (20, None, 1, 20),
                                                               (1, 1, 1, 1)])
def test_interval_follows_the_data(batches, max_images, interval, drawn):
    hook = DRNSegVisualizationHook(max_images=max_images)
    hook.before_val_epoch(Runner(batches, 0))
    assert hook.interval == interval
    # mmseg draws batch i when (i + 1) % interval == 0
    assert sum((i + 1) % hook.interval == 0 for i in range(batches)) == drawn
    hook.before_test_epoch(Runner(0, batches))
    assert hook.interval == interval


def test_a_test_with_a_folder_of_its_own_draws_every_image():
    """--show-dir (drn_mm's, mmseg's or mim's test tool) sets the visualizer's save_dir: every
    test image is drawn; validation keeps max_images."""
    from mmengine.config import Config
    hook = DRNSegVisualizationHook(max_images=8)
    runner = Runner(20, 20)
    runner.cfg = Config(dict(visualizer=dict(type='SegLocalVisualizer', save_dir='pictures')))
    hook.before_test_epoch(runner)
    assert hook.interval == 1
    hook.before_val_epoch(runner)
    assert hook.interval == 3


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match='give max_images'):
        DRNSegVisualizationHook(interval=5)
    with pytest.raises(ValueError, match='max_images=0'):
        DRNSegVisualizationHook(max_images=0)

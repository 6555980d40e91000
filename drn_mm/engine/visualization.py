"""Pictures of validation and test predictions at an interval that fits the data.

mmseg's ``SegVisualizationHook`` draws every ``interval``-th image (default 50): on a 20-image val
set it draws none, silently. :class:`DRNSegVisualizationHook` sets the interval from the loader's
length at the start of each val/test epoch so that about ``max_images`` pictures are drawn
(``max_images=None``: every image). A test whose pictures go to a folder of their own
(``--show-dir`` of drn_mm's, mmseg's or mim's ``tools/test.py``, which set the visualizer's
``save_dir``) draws every image. Pictures go to the
visualizer's backends: ``<work_dir>/<timestamp>/vis_data/vis_image/`` (LocalVisBackend), or
TensorBoard with ``visualizer=dict(vis_backends=[..., dict(type='TensorboardVisBackend')])``.
"""
import math
from typing import Optional

from mmengine.logging import print_log

from ..registry import REGISTRY_MODULES, register

__all__ = []

if 'mmseg' in REGISTRY_MODULES:
    from mmseg.engine.hooks import SegVisualizationHook

    @register('HOOKS', libraries=('mmseg', ))
    class DRNSegVisualizationHook(SegVisualizationHook):
        """``SegVisualizationHook`` drawing about ``max_images`` images per val/test pass.

        Args:
            max_images (int, optional): Pictures per pass (>= 1), spread evenly over the loader;
                None draws every image. Default 8.
            **kwargs: ``SegVisualizationHook``'s (``draw``, ``show``, ``wait_time``, ...);
                ``interval`` is computed, not given.
        """

        def __init__(self, max_images: Optional[int] = 8, draw: bool = True, **kwargs):
            if 'interval' in kwargs:
                raise ValueError('DRNSegVisualizationHook: give max_images (pictures per pass), '
                                 'not interval: the interval follows from the data')
            if max_images is not None and (not isinstance(max_images, int) or max_images < 1):
                raise ValueError(f'DRNSegVisualizationHook: max_images={max_images!r}; valid: '
                                 'an integer >= 1, or None for every image')
            super().__init__(draw=draw, interval=1, **kwargs)
            self.max_images = max_images

        def _fit_interval(self, runner, loader, mode: str) -> None:
            if not self.draw:
                return
            batches = len(loader)
            # a test run whose pictures go to a folder of their own (--show-dir, of drn_mm's,
            # mmseg's or mim's test tool: the visualizer's save_dir) draws every image
            every = self.max_images is None or (mode == 'test' and (
                (getattr(runner, 'cfg', None) or {}).get('visualizer') or {}).get('save_dir'))
            self.interval = 1 if every else max(1, math.ceil(batches / self.max_images))
            drawn = batches // self.interval
            print_log(
                f'{mode}: drawing {drawn} of {batches} batches (every {self.interval}) to '
                'the visualizer (vis_data/vis_image under the work dir)', logger='current')

        def before_val_epoch(self, runner) -> None:
            self._fit_interval(runner, runner.val_dataloader, 'val')

        def before_test_epoch(self, runner) -> None:
            self._fit_interval(runner, runner.test_dataloader, 'test')

    __all__ += ['DRNSegVisualizationHook']

"""InferencePrecisionHook: run the test at another precision (``tools/test.py --precision``).

Before the test, the runner's segmentor is replaced by one that predicts through a
:class:`~drn_mm.deploy.precision.Predictor` (a ``PredictorSegmentor`` sharing its modules; bf16,
int8 or 'auto', see
:mod:`drn_mm.deploy.precision`); the calibration batches (int8) and the label-agreement check
against fp32 use the first ``calibration_images`` test images. The agreement and the path are
logged. Evaluation stays fp32 unless asked: it reproduces published numbers.
"""
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ..deploy.precision import PRECISIONS, apply_precision, calibration_batches
from ..registry import register

__all__ = ['InferencePrecisionHook']


@register('HOOKS', libraries=('mmseg', ))
class InferencePrecisionHook(Hook):
    priority = 'VERY_LOW'

    def __init__(self, precision: str = 'auto', calibration_images: int = 8):
        if precision not in PRECISIONS:
            raise ValueError(f'InferencePrecisionHook: precision={precision!r}; valid: '
                             f'{PRECISIONS}')
        self.precision = precision
        self.calibration_images = calibration_images

    def before_test(self, runner) -> None:
        wrapper = runner.model
        model = getattr(wrapper, 'module', wrapper)  # DDP / TTA wrappers
        if not hasattr(model, 'decode_head'):
            raise TypeError(f'InferencePrecisionHook needs an mmseg segmentor, not '
                            f'{type(model).__name__}')
        model.eval()
        calibration = calibration_batches(model, runner.test_dataloader, self.calibration_images)
        predicting, predictor, agreement = apply_precision(
            model, self.precision, calibration,
            workdir=runner.log_dir if self.precision == 'int8' else None)
        if wrapper is model:
            runner.model = predicting
        else:  # the wrapper's child is the segmentor that predicts through the predictor
            wrapper.module = predicting
        print_log(
            f'inference precision: {predictor.precision} ({predictor.detail}); labels agree '
            f'with fp32 on {agreement * 100:.2f} % of the pixels of {len(calibration)} '
            'calibration batches', logger='current')
        runner.message_hub.update_info('inference_precision', predictor.precision)

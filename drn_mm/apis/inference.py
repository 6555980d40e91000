"""Inference on image files with a model from :func:`~drn_mm.apis.init_model`."""
import numpy as np

__all__ = ['segment_image', 'predict_image', 'set_inference_precision']


def segment_image(model, image: str) -> np.ndarray:
    """Predicted (H, W) label map of one image file."""
    from mmseg.apis import inference_model
    result = inference_model(model, image)
    return result.pred_sem_seg.data.squeeze(0).cpu().numpy().astype(np.uint8)


def predict_image(model, image: str):
    """Run a classifier's test pipeline and the model on one image file.

    Returns:
        The model's ``DataSample``: ``pred_score`` (C,), ``pred_label``, ``pred_cam`` (C, h, w)
        and the pipeline's metainfo (``ori_shape``, ``img_shape``, ``scale_factor``, ...).
    """
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    steps = [dict(step) for step in model.cfg.test_dataloader.dataset.pipeline]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(steps)
        data = pipeline(dict(img_path=image))
        with torch.no_grad():
            return model.test_step(pseudo_collate([data]))[0]


def set_inference_precision(model, precision: str, images=()) -> str:
    """Route a segmentor's predictions through a bf16 / int8 / 'auto' path
    (:mod:`drn_mm.deploy.precision`), calibrated (int8) and checked against fp32 ('auto', and the
    returned agreement) on ``images`` (files, through the model's test pipeline). Returns what
    runs, in words."""
    from mmengine.registry import DefaultScope
    from mmseg.apis.utils import _preprare_data

    from ..deploy.precision import (build_predictor, calibration_batches, label_agreement,
                                    use_predictor)
    if precision == 'fp32':
        return 'fp32 eager'
    with DefaultScope.overwrite_default_scope('mmseg'):
        batches = [_preprare_data(image, model)[0] for image in images]
    calibration = calibration_batches(model, batches, len(batches))
    predictor = build_predictor(model, precision, calibration)
    agreement = label_agreement(predictor, build_predictor(model, 'fp32'), calibration)
    use_predictor(model, predictor)
    return (f'{predictor.precision} ({predictor.detail}); labels agree with fp32 on '
            f'{agreement * 100:.2f} % of {len(calibration)} image(s)')

"""Inference on image files with a model from :func:`~drn_mm.apis.init_model`."""
import numpy as np

__all__ = ['segment_image', 'predict_image']


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

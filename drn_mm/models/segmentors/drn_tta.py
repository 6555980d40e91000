from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel

from ...registry import register_model

MERGE_MODES = ('log_prob', 'prob')


@register_model(('mmseg', ))
class DRNTTAModel(SegTTAModel):
    """Multi-scale (and flip) testing that merges as the DRN reference does.

    Args:
        merge (str): 'log_prob' sums the per-pixel log-softmax of every augmented view (the
            authors' multi-scale test); 'prob' averages softmax probabilities (mmseg's SegTTAModel).
        **kwargs: BaseTTAModel arguments (``module``, ``data_preprocessor``).
    """

    def __init__(self, merge: str = 'log_prob', **kwargs):
        if merge not in MERGE_MODES:
            raise ValueError(f'DRNTTAModel: merge={merge!r}; valid: {MERGE_MODES}')
        super().__init__(**kwargs)
        self.merge = merge

    def merge_preds(self, data_samples_list: List[list]) -> list:
        if self.merge == 'prob' or self.module.out_channels == 1:
            return super().merge_preds(data_samples_list)
        predictions = []
        for views in data_samples_list:
            score = torch.stack([v.seg_logits.data.log_softmax(dim=0) for v in views]).sum(0)
            merged = views[0].new()
            merged.set_data({
                'seg_logits': PixelData(data=score),
                'pred_sem_seg': PixelData(data=score.argmax(dim=0, keepdim=True))
            })
            if 'gt_sem_seg' in views[0]:
                merged.set_data({'gt_sem_seg': views[0].gt_sem_seg})
            merged.set_metainfo({'img_path': views[0].img_path})
            predictions.append(merged)
        return predictions

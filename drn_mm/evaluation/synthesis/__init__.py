"""The DRN score: semantic-fidelity evaluation of generated images with DRN, under named
protocols, exact to the authors' ``segment.py test`` (see docs/en/drn_score.md)."""
from .files import (CITYSCAPES_ID_TO_TRAIN_ID, ScoreInputError, detect_label_kind, pair_files,
                    to_class_indices)
from .reference import (CITYSCAPES_MEAN, CITYSCAPES_STD, MS_SCALES, fast_hist, per_class_iou,
                        resize_image, resize_label, resize_log_probabilities, segment)
from .score import PROTOCOLS, markdown_report, score_images, write_report

__all__ = [
    'CITYSCAPES_ID_TO_TRAIN_ID', 'ScoreInputError', 'detect_label_kind', 'pair_files',
    'to_class_indices', 'CITYSCAPES_MEAN', 'CITYSCAPES_STD', 'MS_SCALES', 'fast_hist',
    'per_class_iou', 'resize_image', 'resize_label', 'resize_log_probabilities', 'segment',
    'PROTOCOLS', 'markdown_report', 'score_images', 'write_report'
]

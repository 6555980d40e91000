"""Pictures: segmentation comparisons and class activation maps."""
from .cam import cam_on_original, draw_localization, visualize_cam
from .segmentation import (colorize, comparison_grid, overlay_segmentation, read_rgb, save_png,
                           save_segmentation_comparison, show_dataset_predictions)

__all__ = [
    'cam_on_original', 'draw_localization', 'visualize_cam', 'colorize', 'comparison_grid',
    'overlay_segmentation', 'read_rgb', 'save_png', 'save_segmentation_comparison',
    'show_dataset_predictions'
]

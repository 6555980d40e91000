"""CamVid in the SegNet layout, as the DRN README trains on it (mmsegmentation has no CamVid).

Layout under ``data_root`` (the SegNet release: 360x480 RGB, 367 train / 101 val / 233 test)::

    train/*.png  trainannot/*.png  val/*.png  valannot/*.png  test/*.png  testannot/*.png

Annotations are one-channel PNGs with the same file names as the images, values 0-10 (the 11
classes below, in this order) and 11 for void. Void becomes the ignore index 255 through the data
set's ``label_map`` (every other value maps to itself), which mmseg's ``LoadAnnotations`` and
drn_mm's ``LoadCheckedAnnotations`` apply; any value above 11 is an error naming the file
(``LoadCheckedAnnotations``).
"""
from mmseg.datasets import BaseSegDataset

from ..registry import register

__all__ = ['CamVidDataset', 'CAMVID_CLASSES', 'CAMVID_VOID']

CAMVID_CLASSES = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol', 'Fence',
                  'Car', 'Pedestrian', 'Bicyclist')
#: the annotation value of unlabelled pixels
CAMVID_VOID = 11


@register('DATASETS', libraries=('mmseg', ))
class CamVidDataset(BaseSegDataset):
    """CamVid (11 classes, SegNet layout). ``data_prefix`` picks the split, e.g.
    ``dict(img_path='train', seg_map_path='trainannot')``."""

    METAINFO = dict(
        classes=CAMVID_CLASSES,
        # the colours of the CamVid release's label images (SegNet's class colours)
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128], [60, 40, 222],
                 [128, 128, 0], [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                 [0, 128, 192]])

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', **kwargs):
        if kwargs.get('reduce_zero_label'):
            raise ValueError('CamVidDataset: reduce_zero_label=True would drop Sky (class 0); '
                             'void is 11, mapped to 255 by the data set')
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        """mmseg's class-subset map, with void (11) -> 255 always added; the identity for the
        11 classes is kept explicit (mmseg takes the palette of a subset from this map)."""
        label_map = super().get_label_map(new_classes)
        if label_map is None:
            label_map = {i: i for i in range(len(CAMVID_CLASSES))}
        label_map[CAMVID_VOID] = 255
        return label_map

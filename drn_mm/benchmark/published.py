"""Published accuracy of the configs the benchmark knows (not measured by drn_mm), read from the
metafiles: ``configs/drn/metafile.yaml`` (the paper and the authors' README) and
``configs/baselines/metafile.yaml`` (the OpenMMLab model zoos), their one home.

Keyed by config file name (without ``.py``): only configs whose recipe is the one the number was
published for have an entry. Segmentation: Cityscapes val mIoU; classification: ImageNet-1k val
top-1 accuracy (%; for DRN, 100 minus the README's top-1 error).
"""
import functools
import os.path as osp
from typing import Dict, List, NamedTuple, Optional

__all__ = ['Published', 'metafiles', 'published_numbers', 'published']

#: (task, dataset) of a metafile result -> (metric key in the metafile, name in the benchmark)
_METRICS = {
    ('Semantic Segmentation', 'Cityscapes'): ('mIoU', 'mIoU'),
    ('Image Classification', 'ImageNet-1k'): ('Top 1 Accuracy', 'top-1')
}


class Published(NamedTuple):
    value: float
    metric: str  # 'mIoU' (Cityscapes val) or 'top-1' (ImageNet-1k val accuracy, %)
    source: str


def _configs_root() -> str:
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(osp.dirname(package), 'configs'), osp.join(package, '.mim', 'configs')):
        if osp.isdir(root):
            return root
    raise FileNotFoundError(f'no configs/ folder beside {package} (nor in its .mim/): the '
                            'published numbers live in configs/*/metafile.yaml')


def metafiles() -> List[str]:
    """The metafiles holding published numbers: those ``model-index.yml`` imports."""
    import yaml
    root = osp.dirname(_configs_root())
    with open(osp.join(root, 'model-index.yml')) as f:
        return [osp.join(root, path) for path in yaml.safe_load(f)['Import']]


@functools.lru_cache(maxsize=None)
def published_numbers() -> Dict[str, Published]:
    """Config name -> :class:`Published`, from every metafile."""
    import yaml
    numbers = {}
    for path in metafiles():
        with open(path) as f:
            meta = yaml.safe_load(f)
        for model in meta['Models']:
            if not model.get('Config'):
                continue
            # the config's name, and the model's (drn_d_22_cityscapes: the short config name
            # that inherits the long one)
            names = {osp.splitext(osp.basename(model['Config']))[0], model['Name']}
            for result in model['Results']:
                key = _METRICS.get((result['Task'], result['Dataset']))
                if key is not None and key[0] in result['Metrics']:
                    for name in names:
                        numbers[name] = Published(
                            float(result['Metrics'][key[0]]), key[1], result['Published'])
    return numbers


def published(name: str) -> Optional[Published]:
    """The published accuracy of config ``name`` (file name without ``.py``), or None."""
    return published_numbers().get(name)

"""drn_mm's models by name: the model index (``model-index.yml`` -> ``configs/*/metafile.yaml``),
mmpretrain's model hub and an mmseg Inferencer that knows drn_mm's names.

- :func:`register_mmpretrain_models` (run by ``import drn_mm``) adds drn_mm's image classifiers to
  mmpretrain's ``ModelHub``: ``list_models('*drn*')``, ``get_model('drn-c-26_3rdparty_in1k')`` and
  ``ImageClassificationInferencer('drn-d-22_3rdparty_in1k')`` work; ``pretrained=True`` downloads
  the authors' file named in the metafile's ``Weights`` (loaded as it is: drn_mm converts it).
- :class:`DRNSegInferencer`: mmseg's ``MMSegInferencer``, whose names resolve in mmseg's own
  metafiles only, resolving drn_mm's segmentation names (``drn_d_22_cityscapes``) too.
- :func:`get_config`: a model name -> its config path.

Installed from a wheel, configs and the model index live in ``drn_mm/.mim/`` (as mmseg's and
mmpretrain's do, for ``mim``); in a source checkout, in the repository root.
"""
import os.path as osp
from typing import Dict, List

# and DRNSegInferencer, built on first access (module __getattr__): mmseg is optional
__all__ = ['package_root', 'model_index', 'get_config', 'register_mmpretrain_models']


def package_root() -> str:
    """The folder holding ``model-index.yml`` and ``configs/``: ``drn_mm/.mim`` when installed,
    else the source checkout."""
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    mim = osp.join(here, '.mim')
    if osp.isfile(osp.join(mim, 'model-index.yml')):
        return mim
    return osp.dirname(here)


def model_index() -> List[Dict]:
    """Every model of drn_mm's metafiles, as dicts (``Name``, ``Config`` made absolute, ...)."""
    import yaml
    root = package_root()
    with open(osp.join(root, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    models = []
    for metafile in imports:
        with open(osp.join(root, metafile)) as f:
            for model in yaml.safe_load(f)['Models']:
                model = dict(model)
                model['Config'] = osp.join(root, model['Config'])
                models.append(model)
    return models


def _tasks(model: Dict) -> set:
    return {result['Task'] for result in model.get('Results') or []}


def get_config(name: str) -> str:
    """The config path of a drn_mm model name (``drn_d_22_cityscapes``,
    ``drn-c-26_3rdparty_in1k``); a config file name without ``.py`` works too."""
    models = model_index()
    for model in models:
        config = model['Config']
        if name.lower() in (model['Name'].lower(), osp.splitext(osp.basename(config))[0].lower()):
            return config
    raise ValueError(f'drn_mm has no model named {name!r}; known: '
                     f'{sorted(m["Name"] for m in models)}')


def register_mmpretrain_models() -> List[str]:
    """Add drn_mm's image classifiers to mmpretrain's ``ModelHub`` (idempotent); returns their
    names. Segmenters are left out: mmpretrain cannot build them."""
    try:
        from mmpretrain.apis import ModelHub
        from modelindex.load_model_index import load
    except ImportError:
        return []
    root = package_root()
    index = load(osp.join(root, 'model-index.yml'))
    index.build_models_with_collections()
    names = []
    for metainfo in index.models:
        name = metainfo.name.lower()
        tasks = {result.task for result in metainfo.results or []}
        if 'Image Classification' not in tasks or not name.startswith('drn'):
            continue  # the baselines' metafile names mmpretrain's own models
        if not ModelHub.has(name):
            metainfo.config = osp.join(root, metainfo.config)
            # ModelHub.register_model_index registers a whole index (our segmenters too);
            # this is the table it fills, one classifier at a time
            ModelHub._models_dict[name] = metainfo
        names.append(name)
    return names


def _seg_inferencer_class():
    from mmseg.apis import MMSegInferencer

    class DRNSegInferencer(MMSegInferencer):
        """``MMSegInferencer`` that also resolves drn_mm's model names, e.g.
        ``DRNSegInferencer('drn_d_22_cityscapes', weights='drn_d_22_cityscapes.pth')``; every
        other argument and behaviour is mmseg's."""

        def _init_model(self, cfg, weights, device):
            if weights is None:  # mmseg would warn and segment with random weights
                raise ValueError('DRNSegInferencer: no weights: pass weights=CHECKPOINT (the '
                                 'authors\' Cityscapes files load as they are)')
            return super()._init_model(cfg, weights, device)

        def _load_model_from_metafile(self, model: str):
            from mmengine.config import Config
            for entry in model_index():
                if entry['Name'].lower() == model.lower():
                    if 'Semantic Segmentation' not in _tasks(entry):
                        raise ValueError(f'{model} is not a segmentation model; use mmpretrain\'s '
                                         'ImageClassificationInferencer')
                    return Config.fromfile(entry['Config']), entry.get('Weights')
            return super()._load_model_from_metafile(model)

    return DRNSegInferencer


def __getattr__(name):
    if name == 'DRNSegInferencer':  # built on first use: mmseg is optional
        cls = _seg_inferencer_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)

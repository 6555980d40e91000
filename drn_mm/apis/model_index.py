"""drn_mm's model index: ``model-index.yml`` -> ``configs/*/metafile*.yaml``, model names ->
configs and weights.

Installed from a wheel, configs and the model index live in ``drn_mm/.mim/`` (as mmseg's and
mmpretrain's do, for ``mim``); in a source checkout, in the repository root.
"""
import os.path as osp
from typing import Dict, List

__all__ = ['package_root', 'model_index', 'get_config']


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

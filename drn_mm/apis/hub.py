"""drn_mm's models by name: the model index (``model-index.yml`` -> ``configs/*/metafile.yaml``),
mmpretrain's model hub and an mmseg Inferencer that knows drn_mm's names.

- :func:`register_mmpretrain_models` (run by ``import drn_mm``) registers drn_mm's image
  classifiers with mmpretrain's ``ModelHub`` (its public ``register_model_index``):
  ``list_models('*drn*')``, ``get_model('drn-c-26_3rdparty_in1k')`` and
  ``ImageClassificationInferencer('drn-d-22_3rdparty_in1k')`` work. The authors' weights load
  through the ``drn://`` scheme: ``get_model(name, pretrained='drn://drn-c-26_3rdparty_in1k')``
  (``pretrained=True`` hands mmengine the authors' file as it is, which the DRN backbone refuses
  with an error naming that way).
- :class:`DRNSegInferencer`: mmseg's ``MMSegInferencer``, whose names resolve in mmseg's own
  metafiles only, resolving drn_mm's segmentation names (``drn_d_22_cityscapes``) too.
- :func:`get_config`: a model name -> its config path.

Installed from a wheel, configs and the model index live in ``drn_mm/.mim/`` (as mmseg's and
mmpretrain's do, for ``mim``); in a source checkout, in the repository root.
"""
import os.path as osp
from typing import List

from .model_index import _tasks, get_config, model_index, package_root

# and DRNSegInferencer, built on first access (module __getattr__): mmseg is optional
__all__ = ['package_root', 'model_index', 'get_config', 'register_mmpretrain_models']

#: drn_mm's image classifiers, the one metafile registered with mmpretrain's ModelHub
CLASSIFIER_METAFILE = 'configs/drn/metafile-cls.yaml'


def register_mmpretrain_models() -> List[str]:
    """Register drn_mm's image classifiers with mmpretrain's ``ModelHub`` through its public
    ``register_model_index`` (idempotent: names already there are left alone); returns their
    names. Only :data:`CLASSIFIER_METAFILE` is registered: mmpretrain cannot build segmenters, and
    the baselines' metafile names mmpretrain's own models."""
    try:
        from mmpretrain.apis import ModelHub
        from modelindex.load_model_index import load
    except ImportError:
        return []
    root = package_root()
    path = osp.join(root, CLASSIFIER_METAFILE)
    names = [m.name.lower() for m in load(path).models]
    if not all(ModelHub.has(name) for name in names):
        ModelHub.register_model_index(path, config_prefix=root)
    return names


def _seg_inferencer_class():
    from mmseg.apis import MMSegInferencer

    class DRNSegInferencer(MMSegInferencer):
        """``MMSegInferencer`` that also resolves drn_mm's model names, e.g.
        ``DRNSegInferencer('drn_d_22_cityscapes', weights='drn_d_22_cityscapes.pth')``, and reads
        a plain weights file through the ``drn://`` scheme (the authors' files as they are),
        loaded strictly (the file must fit the whole model, or an error names it and the arch
        it fits: no segmentation by a half-random model); every other argument and behaviour is
        mmseg's."""

        def _init_model(self, cfg, weights, device):
            if weights is None:  # mmseg would warn and segment with random weights
                raise ValueError('DRNSegInferencer: no weights: pass weights=CHECKPOINT (the '
                                 'authors\' Cityscapes files load as they are)')
            if '://' not in weights:  # a plain file through drn_mm's scheme: the authors' too
                from .scheme import DRN_SCHEME
                weights = DRN_SCHEME + weights
            self._weights_name = weights
            return super()._init_model(cfg, weights, device)

        def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
            if checkpoint is not None:
                from ..engine.checkpoint_hook import check_loaded_checkpoint
                check_loaded_checkpoint(model, checkpoint, self._weights_name, whole=True)
            super()._load_weights_to_model(model, checkpoint, cfg)

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

"""drn_mm's API: config -> model (+ checkpoint) -> inference, training and testing.

Every tool goes through here: one config reader (:func:`read_config`), one model builder for
random-init measurements (:func:`build_model`) and one for inference with weights
(:func:`init_model`).
"""
from .checkpoint import convert_checkpoint_file, load_model_checkpoint, publish_checkpoint
from .config import (TASKS, DictAction, add_runner_arguments, config_name, config_task, enable_amp,
                     enable_tta, load_config, read_config)
from .hub import register_mmpretrain_models
from .inference import predict_image, segment_image
from .model import (build_model, init_classifier, init_model, init_segmentor, model_task,
                    num_classes, random_init_model_cfg)
from .model_index import get_config, model_index
from .runner import build_runner, test, train
from .scheme import DRN_SCHEME, register_checkpoint_scheme

__all__ = [
    'DRN_SCHEME', 'register_checkpoint_scheme', 'convert_checkpoint_file', 'load_model_checkpoint',
    'publish_checkpoint', 'TASKS', 'DictAction', 'add_runner_arguments', 'config_name',
    'config_task', 'enable_amp', 'enable_tta', 'load_config', 'read_config', 'get_config',
    'model_index', 'register_mmpretrain_models', 'predict_image', 'segment_image', 'build_model',
    'init_classifier', 'init_model', 'init_segmentor', 'model_task', 'num_classes',
    'random_init_model_cfg', 'build_runner', 'test', 'train'
]

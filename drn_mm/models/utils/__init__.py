from .checkpoint import (CheckpointError, CheckpointMismatchError, check_finite,
                         check_state_dict_fits, describe, extract_state_dict, load_checkpoint_file,
                         strip_module_prefix)

__all__ = [
    'CheckpointError', 'CheckpointMismatchError', 'check_finite', 'check_state_dict_fits',
    'describe', 'extract_state_dict', 'load_checkpoint_file', 'strip_module_prefix'
]

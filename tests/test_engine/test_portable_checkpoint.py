"""The one compat shim (drn_mm.engine.portable_checkpoint): what breaks without it, and that
DRNCheckpointHook's checkpoints load with torch's weights-only loader and resume their logs."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from drn_mm.engine.portable_checkpoint import PlainMessageHubHook, from_plain, to_plain


def message_hub_state():
    hub = MessageHub.get_instance('portable_checkpoint_test')
    for i in range(5):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    hub.update_info('best_score', np.float64(0.75))
    return hub.state_dict()


def saved(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_without_the_shim_torch_refuses_mmengine_s_message_hub():
    """mmengine 0.10's Runner checkpoint as saved: torch's weights-only loader (the default
    since torch 2.6, used by mmengine's own loaders) refuses it."""
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer|getattr|numpy'):
        torch.load(saved({'message_hub': message_hub_state()}), weights_only=True)


def test_with_the_shim_the_same_state_loads_and_resumes_its_buffers():
    state = message_hub_state()
    checkpoint = {'message_hub': state, 'meta': {'seed': np.int64(3)}}
    PlainMessageHubHook().before_save_checkpoint(None, checkpoint)
    assert isinstance(state['log_scalars']['train/loss'], HistoryBuffer)  # the live hub untouched
    loaded = torch.load(saved(checkpoint), weights_only=True)
    assert loaded['meta']['seed'] == 3
    PlainMessageHubHook().after_load_checkpoint(None, loaded)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    original = state['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    np.testing.assert_array_equal(buffer.data[0], original.data[0])
    np.testing.assert_array_equal(buffer.data[1], original.data[1])
    assert buffer.mean() == original.mean() and buffer.max_length == original.max_length
    assert loaded['message_hub']['runtime_info']['best_score'] == 0.75
    fresh = MessageHub.get_instance('portable_checkpoint_resumed')
    fresh.load_state_dict(loaded['message_hub'])  # what Runner.resume does
    assert fresh.get_scalar('train/loss').current() == pytest.approx(0.2)


def test_to_plain_and_back_keep_containers():
    value = {'a': [np.float32(1.5), (np.arange(3), 'x')], 'b': HistoryBuffer([1.0, 2.0], [1, 1])}
    plain = to_plain(value)
    assert plain['a'][0] == 1.5 and torch.equal(plain['a'][1][0], torch.arange(3))
    back = from_plain(plain)
    assert isinstance(back['b'], HistoryBuffer) and back['b'].current() == 2.0

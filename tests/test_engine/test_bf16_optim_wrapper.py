"""BF16OptimWrapper: bf16 autocast, no loss scaling, on CPU as on GPU; what --amp selects."""
import os.path as osp

import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper

from drn_mm.engine import BF16OptimWrapper

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Tiny(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.seen = []

    def forward(self, x):
        out = self.conv(x)
        self.seen.append(out.dtype)
        return out.float().square().mean()


def test_trains_in_bf16_without_scaler():
    torch.manual_seed(0)
    model = Tiny()
    wrapper = build_optim_wrapper(model,
                                  dict(type='BF16OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    assert isinstance(wrapper, BF16OptimWrapper) and not hasattr(wrapper, 'loss_scaler')
    before = model.conv.weight.detach().clone()
    with wrapper.optim_context(model):
        loss = model(torch.rand(2, 3, 8, 8))
    wrapper.update_params(loss)
    assert model.seen == [torch.bfloat16]
    assert model.conv.weight.dtype == torch.float32  # master weights stay fp32
    assert model.conv.weight.grad is None  # zeroed by update_params
    assert not torch.equal(before, model.conv.weight)
    with wrapper.optim_context(model.eval()):  # autocast is on in eval too (validation)
        model(torch.rand(1, 3, 8, 8))
    assert model.seen[-1] == torch.bfloat16


def test_amp_flag_selects_bf16_wrapper_without_bf16_less_gpu():
    from drn_mm.apis import load_config
    cfg = load_config(osp.join(REPO, 'configs', 'drn', 'drn_d_22_cityscapes.py'), amp=True)
    expected = 'AmpOptimWrapper' if (torch.cuda.is_available()
                                     and not torch.cuda.is_bf16_supported()) else 'BF16OptimWrapper'
    assert cfg.optim_wrapper.type == expected
    assert cfg.optim_wrapper.optimizer.lr == 0.01  # the recipe is kept

"""DRN-A's contract_dilation option: the seed's dilated ResNet (PyTorch-Encoding style), checked
against networks built independently: torchvision's dilated ResNet-50 for Bottleneck stages, and
a BasicBlock dilated ResNet-18 written here from the description of PyTorch-Encoding's dilated
ResNet (contract_dilation)."""
import pytest
import torch
import torch.nn as nn
import torchvision

from drn_mm import DRN


def features(model, x):
    with torch.no_grad():
        return model(x)[-1]


def test_bottleneck_stages_equal_torchvisions_dilated_resnet50():
    """torchvision's replace_stride_with_dilation runs each dilated stage's first block at the
    previous dilation (1, then 2): d/2, mmseg's contract_dilation=True."""
    torch.manual_seed(0)
    tv = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True]).double()
    for m in tv.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    tv.eval()
    ours = DRN(arch='A-50', contract_dilation=True).double().eval()
    ours.load_state_dict(tv.state_dict())  # torchvision's keys, as they are (fc dropped)
    x = torch.randn(1, 3, 72, 88, dtype=torch.float64)
    with torch.no_grad():
        t = tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))
        t = tv.layer4(tv.layer3(tv.layer2(tv.layer1(t))))
    assert float((features(ours, x) - t).abs().max()) < 1e-10
    # the authors' DRN-A (first dilated blocks at dilation 1) is another network on the same
    # weights
    authors = DRN(arch='A-50').double().eval()
    authors.load_state_dict(tv.state_dict())
    assert float((features(authors, x) - t).abs().max()) > 1e-3


class SeedBasicBlock(nn.Module):
    """The seed's BasicBlock: conv1 at d1, conv2 at d2 (both dilated)."""

    def __init__(self, cin, planes, stride, d1, d2, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, padding=d1, dilation=d1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=d2, dilation=d2, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


def seed_resnet18():
    """Stem, then stages of 2 blocks: 64 (s1), 128 (s2), 256 (d2), 512 (d4); the first block of a
    dilated stage at (d/2, d), the others at (d, d)."""
    stem = nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    stages, cin = [], 64
    for planes, stride, d in ((64, 1, 1), (128, 2, 1), (256, 1, 2), (512, 1, 4)):
        down = None
        if stride != 1 or cin != planes:
            down = nn.Sequential(
                nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        first = (max(d // 2, 1), d)
        stages.append(
            nn.Sequential(
                SeedBasicBlock(cin, planes, stride, *first, down),
                SeedBasicBlock(planes, planes, 1, d, d)))
        cin = planes
    return nn.Sequential(stem, *stages)


def test_basic_block_stages_equal_the_seeds_dilated_resnet18():
    torch.manual_seed(0)
    seed = seed_resnet18().double()
    for m in seed.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    seed.eval()
    ours = DRN(arch='A-18', contract_dilation=True).double().eval()
    mapped = {}
    for key, value in seed.state_dict().items():
        index, rest = key.split('.', 1)
        mapped[f'stem.{rest}' if index == '0' else f'layer{index}.{rest}'] = value
    ours.load_state_dict(mapped)
    x = torch.randn(1, 3, 64, 80, dtype=torch.float64)
    with torch.no_grad():
        expected = seed(x)
    assert float((features(ours, x) - expected).abs().max()) < 1e-10


def test_only_drn_a_takes_the_option():
    assert sum(p.numel() for p in DRN(arch='A-50', contract_dilation=True).parameters()) == sum(
        p.numel() for p in DRN(arch='A-50').parameters())
    with pytest.raises(ValueError, match='DRN-C-26: contract_dilation is an option of DRN-A'):
        DRN(arch='C-26', contract_dilation=True)

"""Published numbers live once, in the metafiles; the README's model zoo agrees with them."""
import os.path as osp
import re

import pytest
import yaml

from drn_mm.benchmark.published import metafiles, published

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def drn_models():
    """DRN's models of both metafiles (segmenters; classifiers, which mmpretrain registers)."""
    return [
        model for name in ('metafile.yaml', 'metafile-cls.yaml')
        for model in load(osp.join(REPO, 'configs', 'drn', name))['Models']
    ]


def test_model_index_imports_every_metafile():
    index = load(osp.join(REPO, 'model-index.yml'))
    assert sorted(osp.join(REPO, p) for p in index['Import']) == sorted(metafiles())


def test_every_metafile_config_exists_and_numbers_are_marked_published():
    for path in metafiles():
        for model in load(path)['Models']:
            assert osp.isfile(osp.join(REPO, model['Config'])), model['Config']
            for result in model['Results']:
                assert result['Published'], model['Name']


def readme_zoo_rows():
    with open(osp.join(REPO, 'README.md')) as f:
        text = f.read()
    zoo = text[text.index('## Model zoo'):]
    zoo = zoo[:zoo.index('\n## ', 1)]
    rows = {}
    for line in zoo.splitlines():
        match = re.match(r'^\| DRN-([A-D]-\d+) \| ([\d,]+) \| ([\d.]+) / ([\d.]+) \| ([\d.]*)',
                         line)
        if match:
            arch, params, top1, top5, miou = match.groups()
            rows[arch] = (int(params.replace(',', '')), float(top1), float(top5),
                          float(miou) if miou else None)
    return rows


def test_readme_zoo_table_agrees_with_the_metafile():
    rows = readme_zoo_rows()
    assert len(rows) == 8
    seen = set()
    for model in drn_models():
        arch = model['Metadata']['Arch']
        params, top1, top5, miou = rows[arch]
        for result in model['Results']:
            metrics = result['Metrics']
            if result['Dataset'] == 'ImageNet-1k':
                assert model['Metadata']['Parameters'] == params, arch
                assert (metrics['Top 1 Error'], metrics['Top 5 Error']) == (top1, top5), arch
                assert metrics['Top 1 Accuracy'] == pytest.approx(100 - top1), arch
                seen.add(arch)
            elif result['Dataset'] == 'Cityscapes':
                assert metrics['mIoU'] == miou, arch
    assert seen == set(rows)


def test_the_benchmark_reads_the_metafiles():
    assert published('drn_d_22_cityscapes').value == 68.0
    assert published('drn-c-26_8xb32_in1k') == (75.1, 'top-1',
                                                published('drn-c-26_8xb32_in1k').source)
    assert published('fcn_r50-d8_4xb2-40k_cityscapes-512x1024').value == 72.25
    assert published('drn_a_50_cityscapes') is None  # a published number without a config

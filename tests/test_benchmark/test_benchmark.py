"""tools/benchmark.py on CPU at a small size, and the pieces it is made of."""
import json
import math
import os.path as osp
import statistics
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from drn_mm.apis import build_model
from drn_mm.apis import read_config as load_benchmark_config
from drn_mm.benchmark import add_ratios, count_macs, model_flops, parse_mode, time_calls

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DRN = 'configs/drn/drn_d_22_cityscapes.py'
BASELINE = 'configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------------- FLOPs by hand
def test_macs_of_tiny_layers_counted_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)  # 8*10*10 outputs x 3*3*3
    grouped = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4)  # 8*10*10 x (8/4)*3*3
    deconv = nn.ConvTranspose2d(8, 8, 16, stride=8, padding=4, groups=8, bias=False)
    linear = nn.Linear(8, 5)
    x = torch.zeros(1, 3, 10, 10)

    def run():
        y = deconv(grouped(conv(x)))  # deconv: 8*10*10 inputs x (8/8)*16*16
        assert y.shape == (1, 8, 80, 80)
        linear(y.mean((2, 3)))  # 1*5 outputs x 8

    model = nn.ModuleList([conv, grouped, deconv, linear])
    macs = count_macs(model, run)
    assert macs['Conv2d'] == 800 * 27 + 800 * 18
    assert macs['ConvTranspose2d'] == 800 * 256
    assert macs['Linear'] == 5 * 8
    assert macs['total'] == 800 * 27 + 800 * 18 + 800 * 256 + 40


@pytest.mark.parametrize('config,gflops', [(DRN, 1091), (BASELINE, 3162)])
def test_segmentor_flops_match_the_published_counts(config, gflops):
    """The paper's table of costs, as documented in docs/en/benchmarks.md (1024x2048, batch 1):
    DRN-D-22 1091, FCN-R50-D8 3162 GFLOPs."""
    model = build_model(load_benchmark_config(osp.join(REPO, config)))
    flops = model_flops(model, (1024, 2048))
    assert flops['counted_on'] == 'meta'
    assert flops['gflops'] == pytest.approx(gflops, rel=1e-3)  # the reference rounds up extras
    assert flops['gmacs'] * 2 == pytest.approx(flops['gflops'])


def d22_segmentation_macs_by_hand(h=1024, w=2048):
    """DRN-D-22 + DRNSegHead (19 classes) at h x w, layer by layer: output pixels x out channels x
    in channels x kernel area."""
    full, half, quarter, eighth = h * w, h * w // 4, h * w // 16, h * w // 64
    k3 = 9
    macs = full * 16 * 3 * 49  # stem: 7x7, 3 -> 16
    macs += full * 16 * 16 * k3  # level 1: conv 16 -> 16
    macs += half * 32 * 16 * k3  # level 2: conv 16 -> 32, stride 2
    for planes, inplanes, pixels in ((64, 32, quarter), (128, 64, eighth), (256, 128, eighth),
                                     (512, 256, eighth)):  # levels 3-6: 2 BasicBlocks each
        macs += pixels * planes * inplanes * k3  # first conv (stride 2 in levels 3-4)
        macs += pixels * planes * planes * k3  # second conv
        macs += pixels * planes * inplanes  # 1x1 shortcut projection
        macs += 2 * pixels * planes * planes * k3  # second block
    macs += 2 * eighth * 512 * 512 * k3  # levels 7-8: conv 512 -> 512
    macs += eighth * 19 * 512  # 1x1 classifier
    upsampling = eighth * 19 * 64 * k3  # x8 bilinear: depthwise 3x3 over 19 x 64 phases
    return macs + upsampling, upsampling


def test_d22_flops_count_the_upsampling_that_runs():
    """The x8 upsampling runs as a phase conv (F.conv2d), not as its ConvTranspose2d: counted."""
    total, upsampling = d22_segmentation_macs_by_hand()
    model = build_model(load_benchmark_config(osp.join(REPO, DRN)))
    flops = model_flops(model, (1024, 2048))
    assert round(flops['gmacs'] * 1e9) == total
    assert flops['macs_by_type']['functional'] == upsampling
    assert flops['macs_by_type']['ConvTranspose2d'] == 0  # the module is never called


# -------------------------------------------------------------------------------------- pieces
def test_parse_mode():
    mode = parse_mode('amp_cl_compile')
    assert (mode.precision, mode.channels_last, mode.compile, mode.fold_bn) == ('amp', True, True,
                                                                                False)
    assert parse_mode('fp32').dtype('cpu') is None
    assert parse_mode('amp').dtype('cpu') == torch.bfloat16
    assert parse_mode('fp16_fold').fold_bn
    for bad in ('fp64', 'amp_nhwc', 'amp_cl_cl'):
        with pytest.raises(ValueError, match='mode'):
            parse_mode(bad)


def test_time_calls_counts_warmup_and_repeats():
    calls = []
    timing = time_calls(lambda: calls.append(1), torch.device('cpu'), warmup=3, repeats=4, iters=5)
    assert len(calls) == 3 + 4 * 5
    ms = timing['ms']
    assert len(ms['samples']) == 4 and ms['min'] <= ms['median'] <= ms['max']
    assert timing['peak_mem_mb'] is None and timing['first_call_s'] >= 0


def fake_results():

    def infer(model, mode, ips, batch=1):
        return dict(model=model, mode=mode, batch=batch, status='ok', throughput_ips=ips / 2,
                    throughput_best_ips=ips, peak_mem_mb=None)

    def model(name, config, params, gflops):
        return dict(name=name, config=config, params=params, flops=dict(gflops=gflops))

    return dict(
        models=[
            model('drn', 'configs/drn/drn.py', 10, 100),
            model('fcn', 'configs/baselines/fcn.py', 40, 400)
        ], inference=[
            infer('drn', 'fp32', 20),
            infer('drn', 'amp_cl', 50),
            infer('fcn', 'fp32', 10),
            infer('fcn', 'amp_cl', 20),
            dict(model='fcn', mode='amp_cl_compile', batch=1, status='error')
        ], training=[
            dict(model='drn', mode='fp32', loop='runner', status='ok', throughput_ips=9,
                 peak_mem_mb=100.0),
            dict(model='drn', mode='fp32', loop='bare', status='ok', throughput_ips=10,
                 peak_mem_mb=90.0),
            dict(model='drn', mode='fp32', loop='train_py', status='ok', throughput_ips=8,
                 peak_mem_mb=100.0)
        ])


def test_ratios_against_the_baseline():
    results = add_ratios(fake_results())
    assert results['baseline'] == 'fcn'  # the config under baselines/
    drn = results['models'][0]
    assert drn['params_vs_baseline'] == 0.25 and drn['gflops_vs_baseline'] == 0.25
    rows = {(r['model'], r['mode']): r for r in results['inference']}
    assert rows['drn', 'fp32']['throughput_vs_baseline'] == 2.0
    assert rows['drn', 'amp_cl']['throughput_vs_baseline'] == 2.5
    assert rows['drn', 'amp_cl']['speedup_vs_fp32'] == 2.5
    assert rows['fcn', 'amp_cl']['throughput_vs_baseline'] == 1.0
    assert 'throughput_vs_baseline' not in rows['fcn', 'amp_cl_compile']  # failed: no ratio
    runner, bare, train_py = results['training']
    assert runner['vs_bare'] == pytest.approx(0.9) and train_py['vs_bare'] == pytest.approx(0.8)
    assert 'vs_bare' not in bare
    assert runner['throughput_vs_baseline'] is None  # the baseline was not trained
    # rows not timed side by side (interleave=False) have ratios but no ratio spread
    assert rows['drn', 'amp_cl']['vs_fp32_spread_pct'] is None
    assert rows['drn', 'amp_cl']['vs_fp32_reliable'] is None
    assert add_ratios(fake_results(), 'drn')['models'][0]['params_vs_baseline'] == 1.0
    with pytest.raises(ValueError, match='matches'):
        add_ratios(fake_results(), 'resnet')


# --------------------------------------------------------------------- the tool, end to end
@pytest.fixture(scope='module')
def cpu_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark.py'), DRN, BASELINE, '--device', 'cpu', '--infer-size',
        '16', '32', '--infer-batch', '1', '2', '--train-size', '16', '32', '--train-batch', '2',
        '--modes', 'fp32', 'amp_cl_fold', '--train-modes', 'fp32', '--warmup', '1', '--repeats',
        '2', '--check-accuracy', '--cpu-threads', '1', '--out-dir',
        str(out)
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    with open(out / 'benchmark.json') as f:
        return json.load(f), out, result.stdout


def test_cpu_run_writes_json_markdown_and_plot(cpu_run):
    results, out, stdout = cpu_run
    assert set(results) >= {'meta', 'baseline', 'models', 'inference', 'training'}
    assert results['baseline'] == 'fcn_r50-d8_4xb2-40k_cityscapes-512x1024'
    meta = results['meta']
    assert meta['environment']['device'] == 'cpu' and meta['environment']['torch']
    assert meta['settings']['infer_size'] == [16, 32] and meta['settings']['check_accuracy']
    assert meta['environment']['cpu_threads'] == 1
    isa = meta['environment']['cpu_isa']  # what decides CPU speed, detected on this machine
    assert set(isa) >= {'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_int8'}
    assert isinstance(meta['environment']['cpu_bf16_hardware'], bool)
    assert set(meta['definitions']) >= {'gflops', 'latency_ms', 'throughput_ips', 'accuracy'}
    assert (out / 'benchmark.png').stat().st_size > 10_000
    markdown = (out / 'benchmark.md').read_text()
    assert markdown in stdout
    for name in ('drn_d_22_cityscapes', 'fcn_r50-d8_4xb2-40k_cityscapes-512x1024'):
        assert name in markdown
    # the targets, from this run's rows: D-22 vs FCN measured, D-38 not in the run
    targets = {t['key']: t for t in results['targets']}
    d22 = {
        r['mode']: r
        for r in results['inference'] if r['model'] == 'drn_d_22_cityscapes' and r['batch'] == 1
    }
    fcn = {
        r['mode']: r
        for r in results['inference'] if r['model'] == results['baseline'] and r['batch'] == 1
    }
    assert targets['d22_fastest_vs_fcn']['value'] == pytest.approx(
        max(r['throughput_best_ips'] for r in d22.values()) / max(r['throughput_best_ips']
                                                                  for r in fcn.values()))
    assert targets['d38_fastest_vs_fcn']['met'] is None
    assert '## Targets of the performance issue' in markdown
    assert f"{meta['environment']['device_name']} (cpu)" in markdown


def test_cpu_run_model_fields(cpu_run):
    results = cpu_run[0]
    models = {m['name']: m for m in results['models']}
    drn, fcn = models['drn_d_22_cityscapes'], models['fcn_r50-d8_4xb2-40k_cityscapes-512x1024']
    assert drn['published'] == 68.0 and fcn['published'] == 72.25
    assert drn['published_metric'] == fcn['published_metric'] == 'mIoU' and drn['task'] == 'seg'
    assert 'README' in drn['published_source'] and 'mmsegmentation' in fcn['published_source']
    # the reference's 16,393,752 less its 1000-way fc (513,000), plus the head's 1x1 classifier
    # (9,747) and fixed deconv (4,864)
    assert drn['params'] == 16_393_752 - 513_000 + 9_747 + 4_864
    assert fcn['params_infer'] < fcn['params']  # auxiliary head left out
    assert drn['params_infer'] == drn['params']
    for m in (drn, fcn):
        assert m['flops']['size'] == [16, 32] and m['flops']['gflops'] > 0
        assert m['params_vs_baseline'] == pytest.approx(m['params'] / fcn['params'])
        assert m['gflops_vs_baseline'] == pytest.approx(m['flops']['gflops'] /
                                                        fcn['flops']['gflops'])


def test_cpu_run_inference_rows(cpu_run):
    results = cpu_run[0]
    rows = results['inference']
    assert len(rows) == 2 * 2 * 2  # models x batches x modes
    by_key = {(r['model'], r['mode'], r['batch']): r for r in rows}
    base = results['baseline']
    for r in rows:
        assert r['status'] == 'ok', r
        ms = r['latency_ms']
        assert 0 < ms['min'] <= ms['median'] <= ms['max'] and len(ms['samples']) == 2
        assert r['throughput_ips'] == pytest.approx(r['batch'] / (ms['median'] / 1e3))
        assert r['throughput_best_ips'] == pytest.approx(r['batch'] / (ms['min'] / 1e3))
        assert r['peak_mem_mb'] is None  # CPU
        assert r['interleaved'] is True  # the default: all rows of a batch timed in turn
        # ratios are of the minima; their spread is of the per-repeat ratios (same repeat)
        b = by_key[base, r['mode'], r['batch']]
        assert r['throughput_vs_baseline'] == pytest.approx(b['latency_ms']['min'] / ms['min'])
        fp32 = by_key[r['model'], 'fp32', r['batch']]
        assert r['speedup_vs_fp32'] == pytest.approx(fp32['latency_ms']['min'] / ms['min'])
        per_repeat = [f / t for f, t in zip(fp32['latency_ms']['samples'], ms['samples'])]
        assert r['vs_fp32_spread_pct'] == pytest.approx(100 * (max(per_repeat) - min(per_repeat)) /
                                                        statistics.median(per_repeat))
        assert r['vs_fp32_reliable'] == (r['vs_fp32_spread_pct'] <= 25)
        if r['model'] == base:
            assert r['throughput_vs_baseline'] == pytest.approx(1.0)
        acc = r['accuracy']
        assert set(acc) >= {'max_abs_err', 'max_rel_err', 'label_agreement'}
        if r['mode'] == 'fp32':
            assert acc['max_rel_err'] <= 1e-6 and acc['label_agreement'] == 1.0
        else:  # bf16 (and BN folded, channels_last): coarse but close
            assert acc['max_rel_err'] < 0.25 and acc['label_agreement'] > 0.5
        assert math.isclose(acc['max_rel_err'] * acc['reference_max_abs'], acc['max_abs_err'],
                            rel_tol=1e-6)


def test_cpu_run_roofline(cpu_run):
    """Each dtype's peak (a 3x3 dilated 256-channel conv at 1/8 of the input) is timed in the same
    repeats as the rows of each batch; every row's GMAC/s is its MACs over its minimum latency,
    and its share is of the peak of its own dtype and batch (fp32; amp = bf16 on a CPU)."""
    results, out, stdout = cpu_run
    peaks = {(p['batch'], p['dtype']): p for p in results['roofline']}
    assert set(peaks) == {(b, d) for b in (1, 2) for d in ('fp32', 'bf16')}
    probe_macs = 256 * 256 * 9 * math.ceil(16 / 8) * math.ceil(32 / 8)  # out x in x 3x3
    for (batch, dtype), p in peaks.items():
        assert p['probe'] == f'peak {dtype} conv' and p['macs'] == probe_macs
        assert len(p['latency_ms']['samples']) == 2  # the rows' repeats
        assert p['gmacs_per_s'] == pytest.approx(probe_macs / (p['latency_ms']['min'] / 1e3) / 1e9)
    models = {m['name']: m for m in results['models']}
    for r in results['inference']:
        roof = r['roofline']
        assert roof['dtype'] == {'fp32': 'fp32', 'amp_cl_fold': 'bf16'}[r['mode']]
        flops = models[r['model']]['flops']
        assert flops['size'] == [16, 32] and flops['batch'] == 1  # infer size: MACs scale by batch
        assert roof['gmacs'] == pytest.approx(flops['gmacs'] * r['batch'])
        assert roof['gmacs_per_s'] == pytest.approx(roof['gmacs'] / (r['latency_ms']['min'] / 1e3))
        peak = peaks[r['batch'], roof['dtype']]['gmacs_per_s']
        assert roof['peak_gmacs_per_s'] == peak
        assert roof['pct_of_peak'] == pytest.approx(100 * roof['gmacs_per_s'] / peak)
    markdown = (out / 'benchmark.md').read_text()
    assert '% of dtype peak' in markdown and '| 1 | peak bf16 conv |' in markdown


def test_roofline_is_left_out_when_asked_and_off_a_cpu():
    """--no-roofline (settings.roofline=False) times no peak; fp16 rows, whose dtype has no probe,
    get roofline None; a GPU run times none (the probes are CPU backends)."""
    from drn_mm.benchmark import BenchmarkSettings
    from drn_mm.benchmark.run import _add_roofline, _roofline_probes, mode_dtype
    rows = [
        dict(model='m', mode='fp16', batch=1, latency_ms={'min': 1.0}),
        dict(model='m', mode='fp32', batch=1, latency_ms={'min': 2.0}),
        dict(model='m', mode='fp32', batch=2, latency_ms={'min': 2.0}),
        dict(model='m', mode='fp32', batch=1, status='error')
    ]
    _add_roofline(rows, {'fp32': {'gmacs_per_s': 10.0}}, {'m': 4e9}, batch=1)
    assert rows[0]['roofline'] is None  # no fp16 peak
    # 4 GMAC in 2 ms = 2000 GMAC/s, 200x the 10 GMAC/s peak
    assert rows[1]['roofline'] == dict(dtype='fp32', gmacs=4.0, gmacs_per_s=2000.0,
                                       peak_gmacs_per_s=10.0, pct_of_peak=20000.0)
    assert 'roofline' not in rows[2] and 'roofline' not in rows[3]  # other batch; not timed
    assert [mode_dtype(m) for m in ('fp32', 'fp32_cl', 'amp_cl', 'bf16_fold', 'fp16')
            ] == ['fp32', 'fp32', 'bf16', 'bf16', 'fp16']
    assert mode_dtype('amp', 'cuda') in ('bf16', 'fp16')
    settings = BenchmarkSettings(modes=('fp32', 'fp16'), infer_size=(16, 32))
    fns, macs = _roofline_probes(torch.device('cpu'), settings)
    assert list(fns) == list(macs) == ['peak fp32 conv']
    settings.roofline = False
    assert _roofline_probes(torch.device('cpu'), settings) == ({}, {})
    settings.roofline = True
    assert _roofline_probes(torch.device('cuda'), settings) == ({}, {})


def test_cpu_run_training_rows(cpu_run):
    results = cpu_run[0]
    rows = {(r['model'], r['loop']): r for r in results['training']}
    assert set(rows) == {(m['name'], loop)
                         for m in results['models']
                         for loop in ('runner', 'bare', 'train_py')}
    for (model, loop), r in rows.items():
        assert r['status'] == 'ok' and r['mode'] == 'fp32', r
        assert r['batch'] == r['batch_requested'] == 2 and r['size'] == [16, 32]
        ms = r['step_ms']
        assert 0 < ms['min'] <= ms['median'] <= ms['max']
        assert r['throughput_ips'] == pytest.approx(2 / (ms['median'] / 1e3))
        base = rows[results['baseline'], loop]
        assert r['throughput_vs_baseline'] == pytest.approx(r['throughput_ips'] /
                                                            base['throughput_ips'])
        if loop == 'bare':
            assert 'vs_bare' not in r
        else:
            assert r['vs_bare'] == pytest.approx(r['throughput_ips'] /
                                                 rows[model, 'bare']['throughput_ips'])
        if loop == 'train_py':  # mmengine's IterTimerHook measured the wait for batches
            assert 0 <= r['data_ms'] < ms['median'] and r['first_call_s'] > 0
        else:
            assert 'data_ms' not in r


# ------------------------------------------------------------------ classification configs
CLS_DRN = 'configs/drn/drn-c-26_8xb32_in1k.py'
CLS_BASELINE = 'configs/baselines/resnet18_8xb32_in1k.py'


@pytest.fixture(scope='module')
def cls_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench_cls')
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools',
                 'benchmark.py'), CLS_DRN, CLS_BASELINE, '--device', 'cpu', '--infer-size', '32',
        '32', '--infer-batch', '2', '--train-size', '32', '32', '--train-batch', '2', '--modes',
        'fp32', 'amp_cl', '--train-modes', 'fp32', '--warmup', '1', '--repeats', '2',
        '--check-accuracy', '--cpu-threads', '1', '--train-workers', '0', '--out-dir',
        str(out)
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    with open(out / 'benchmark.json') as f:
        return json.load(f), out


def test_cls_run_measures_classifiers_side_by_side(cls_run):
    results, out = cls_run
    assert results['baseline'] == 'resnet18_8xb32_in1k'
    models = {m['name']: m for m in results['models']}
    drn, resnet = models['drn-c-26_8xb32_in1k'], models['resnet18_8xb32_in1k']
    assert drn['task'] == resnet['task'] == 'cls'
    assert drn['params'] == 21_126_584  # the reference's DRN-C-26 with its 1000-way fc
    assert resnet['params'] == 11_689_512  # torchvision's ResNet-18
    assert (drn['published'], drn['published_metric']) == (75.1, 'top-1')
    assert (resnet['published'], resnet['published_metric']) == (69.90, 'top-1')
    assert 'mmpretrain' in resnet['published_source']
    assert drn['flops']['gflops'] > resnet['flops']['gflops'] > 0  # stride 8 vs stride 32
    for r in results['inference']:
        assert r['status'] == 'ok' and r['batch'] == 2, r
        assert r['throughput_ips'] == pytest.approx(2 / (r['latency_ms']['median'] / 1e3))
        if r['mode'] == 'fp32':  # softmax scores of fp32 eager without TF32: identical
            assert r['accuracy']['max_abs_err'] == 0 and r['accuracy']['label_agreement'] == 1
    rows = {(r['model'], r['loop']): r for r in results['training']}
    assert set(rows) == {(m, loop) for m in models for loop in ('runner', 'bare', 'train_py')}
    for (model, loop), r in rows.items():
        assert r['status'] == 'ok' and r['batch'] == 2, r
        if loop != 'bare':
            assert r['vs_bare'] == pytest.approx(r['throughput_ips'] /
                                                 rows[model, 'bare']['throughput_ips'])
    assert results['targets'] == []  # the targets are segmentation ones
    markdown = (out / 'benchmark.md').read_text()
    assert '75.10 top-1 (published)' in markdown and '## Targets' not in markdown


def test_segmentation_and_classification_configs_cannot_share_a_run():
    import importlib.util
    spec = importlib.util.spec_from_file_location('benchmark_tool',
                                                  osp.join(REPO, 'tools', 'benchmark.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(
            ValueError, match='segmentation and classification configs cannot share '
            r"a run .*'cls': \['configs/drn/drn-c-26_8xb32_in1k.py'\]"):
        tool.main([DRN, CLS_DRN, '--device', 'cpu'])
    with pytest.raises(FileNotFoundError, match='config file not found: nope.py'):
        tool.main(['nope.py', '--device', 'cpu'])
    from drn_mm.benchmark import default_settings
    assert default_settings('cuda', 'cls')['infer_size'] == (224, 224)
    assert default_settings('cuda', 'seg')['infer_size'] == (1024, 2048)


def test_markdown_table_pads_rows_of_measurements_that_did_not_run():
    from drn_mm.benchmark.markdown import markdown_table
    assert markdown_table(['model', 'ms', 'img/s'], [['drn', '5.1', '196.1'], ['fcn', 'OOM']]) == [
        '| model | ms | img/s |', '|---|---|---|', '| drn | 5.1 | 196.1 |', '| fcn | OOM |  |'
    ]
    with pytest.raises(ValueError, match='a row of 3 cells for 2 columns'):
        markdown_table(['a', 'b'], [['1', '2', '3']])


def test_rows_timed_alone_without_interleave():
    """interleave=False: each row timed on its own (time_calls), the rows say so, and their
    ratios carry no per-repeat spread (the repeats of two rows were not side by side)."""
    from drn_mm.benchmark import BenchmarkSettings, run_benchmark
    settings = BenchmarkSettings(device='cpu', infer_size=(16, 32), infer_batches=(1, ),
                                 modes=('fp32', 'fp32_cl'), train_modes=(), warmup=1, repeats=2,
                                 interleave=False)
    results = run_benchmark([DRN], settings, log=lambda msg: None)
    rows = results['inference']
    assert [r['mode'] for r in rows] == ['fp32', 'fp32_cl'] and results['training'] == []
    assert all(r['status'] == 'ok' and 'interleaved' not in r for r in rows)
    add_ratios(results, 'drn_d_22_cityscapes')
    assert rows[1]['speedup_vs_fp32'] == pytest.approx(rows[0]['latency_ms']['min'] /
                                                       rows[1]['latency_ms']['min'])
    assert rows[1]['vs_fp32_spread_pct'] is None

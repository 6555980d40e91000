"""The environment doctor: ``python -m drn_mm.doctor`` (or ``python tools/doctor.py``, which works
even when ``import drn_mm`` itself fails).

Prints versions, whether mmcv's compiled ops load and run against this torch, the CPU's ISA (AVX2,
AVX-512, bf16, AMX) and the GPU, whether drn_mm's modules are registered in mmseg's and
mmpretrain's registries, and each known trap of this stack it detects (the install traps of
mmcv 2.1 / mmseg 1.2 / mmpretrain 1.2 on current torch and setuptools). Exit code 1 when a check
FAILs (something will not work), 0 otherwise; WARN lines work but deserve a look.

This module imports only the standard library at the top: each check imports what it examines.
"""
import importlib
import platform
import sys
from typing import Callable, List, NamedTuple, Optional


def _hardware_module():
    """drn_mm.hardware; loaded from its file where the doctor runs as a file (tools/doctor.py
    runs it even when ``import drn_mm`` fails, so it cannot import the package)."""
    try:
        from . import hardware
        return hardware
    except ImportError:
        import importlib.util
        import os.path as osp
        spec = importlib.util.spec_from_file_location(
            'drn_mm_hardware', osp.join(osp.dirname(osp.abspath(__file__)), 'hardware.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


_hardware = _hardware_module()
ISA_FLAGS, cpu_bf16_hardware, cpu_info = (_hardware.ISA_FLAGS, _hardware.cpu_bf16_hardware,
                                          _hardware.cpu_info)

OK, WARN, FAIL, INFO = 'ok', 'WARN', 'FAIL', 'info'


class Finding(NamedTuple):
    status: str  # OK, WARN, FAIL or INFO
    name: str
    detail: str


#: import name -> distribution name, where they differ
_DISTRIBUTIONS = {'mim': 'openmim'}


def _version(module: str) -> Optional[str]:
    """The installed version of ``module``: from its distribution's metadata (a package whose
    import needs optional dependencies, as openmim's, is still found), else its ``__version__``."""
    from importlib import metadata
    try:
        return metadata.version(_DISTRIBUTIONS.get(module, module))
    except metadata.PackageNotFoundError:
        pass
    try:
        return importlib.import_module(module).__version__
    except Exception:
        return None


def _parse(version: str):
    """'2.1.0' -> (2, 1, 0); '2.0.0rc4' -> (2, 0, -1, 4) (pre-releases sort first)."""
    from packaging.version import Version
    return Version(version.split('+')[0])


def check_versions() -> List[Finding]:
    found = [Finding(INFO, 'python', f'{platform.python_version()} ({sys.executable})')]
    for module, pip_name in (('torch', 'torch'), ('torchvision', 'torchvision'),
                             ('mmengine', 'mmengine'), ('mmcv', 'mmcv'),
                             ('mmseg', 'mmsegmentation'), ('mmpretrain', 'mmpretrain'), ('numpy',
                                                                                         'numpy')):
        version = _version(module)
        status = INFO if version else FAIL
        hint = '' if version else f': not importable (pip install {pip_name}; tools/setup_env.sh)'
        found.append(Finding(status, module, (version or 'missing') + hint))
    return found


def check_mmcv() -> List[Finding]:
    mmcv = _version('mmcv')
    if mmcv is None:
        return [Finding(FAIL, 'mmcv', 'not installed: bash tools/setup_env.sh builds it')]
    found = []
    if not (_parse('2.0.0rc4') <= _parse(mmcv) < _parse('2.2.0')):
        found.append(
            Finding(
                FAIL, 'mmcv version', f'{mmcv}: mmsegmentation 1.2 asserts 2.0.0rc4 <= mmcv '
                '< 2.2.0 at import; install mmcv 2.1.0 (tools/setup_env.sh)'))
    try:
        importlib.import_module('mmcv._ext')
    except ImportError as e:
        lite = 'No module named' in str(e)
        found.append(
            Finding(
                FAIL, 'mmcv compiled ops',
                ('mmcv has no compiled ops (mmcv-lite or a build without MMCV_WITH_OPS=1): '
                 "mmseg imports mmcv.ops and fails. " if lite else
                 f'mmcv._ext does not load ({e}): it was built against another torch; ') +
                'rebuild with tools/setup_env.sh (its wheel cache is keyed by the torch version)'))
        return found
    try:
        import torch
        from mmcv.ops import nms
        boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
        keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1]
        assert keep.tolist() == [0], keep
        found.append(Finding(OK, 'mmcv compiled ops', f'mmcv {mmcv}: mmcv._ext loads, nms runs'))
    except Exception as e:
        found.append(Finding(FAIL, 'mmcv compiled ops', f'loaded but nms failed: {e!r}'))
    return found


def check_import_traps() -> List[Finding]:
    found = []
    try:
        importlib.import_module('pkg_resources')
        found.append(Finding(OK, 'pkg_resources', 'importable (setuptools < 82)'))
    except ImportError:
        found.append(
            Finding(
                FAIL, 'pkg_resources', 'missing (setuptools >= 82): mmengine cannot resolve '
                "'mmseg::' / 'mmpretrain::' config bases and openmim fails; "
                'pip install "setuptools<82"'))
    for module in ('ftfy', 'regex'):
        try:
            importlib.import_module(module)
        except ImportError:
            found.append(
                Finding(
                    FAIL, module, 'missing: mmsegmentation imports it but does not declare '
                    f'it; pip install {module}'))
    for library in ('mmseg.models', 'mmpretrain.models'):
        try:
            importlib.import_module(library)
            found.append(Finding(OK, f'import {library}', 'works'))
        except Exception as e:
            found.append(Finding(FAIL, f'import {library}', f'{type(e).__name__}: {e}'))
    return found


def check_safe_loading() -> List[Finding]:
    """torch >= 2.6 loads weights_only by default; mmengine 0.10's Runner checkpoints hold
    HistoryBuffer objects, which DRNCheckpointHook saves as plain data instead."""
    try:
        import torch
    except ImportError:
        return []
    if getattr(torch.serialization, 'get_safe_globals', None) is None:
        return [Finding(INFO, 'checkpoint loading', 'torch < 2.4: no weights-only default')]
    return [
        Finding(
            INFO, 'checkpoint loading', "torch loads weights_only: DRNCheckpointHook's checkpoints "
            'are plain data (drn_mm.engine.portable_checkpoint); checkpoints saved by a plain '
            "mmengine Runner hold HistoryBuffer objects, which the safe loader refuses")
    ]


def check_hardware() -> List[Finding]:
    model, flags = cpu_info()
    isa = [name for name in ISA_FLAGS if name in flags]
    found = [Finding(INFO, 'cpu', f'{model}; ISA: {", ".join(isa) or "none of AVX2+"}')]
    try:
        import torch
    except ImportError:
        return found
    found.append(Finding(INFO, 'threads', f'torch uses {torch.get_num_threads()}'))
    if cpu_bf16_hardware(flags):
        fast = 'AMX' if 'amx_bf16' in flags else 'AVX-512 BF16'
        found.append(
            Finding(
                INFO, 'cpu bf16', f'supported in hardware ({fast}): bf16 inference '
                'with channels_last is the fast CPU path'))
    else:
        found.append(
            Finding(
                INFO, 'cpu bf16', 'not in hardware: bf16 on this CPU is emulated and '
                'slower than fp32; keep fp32'))
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        found.append(
            Finding(
                INFO, 'gpu', f'{torch.cuda.device_count()} x {name}, CUDA '
                f'{torch.version.cuda}, bf16: {torch.cuda.is_bf16_supported()}'))
    else:
        found.append(Finding(INFO, 'gpu', f'none visible (torch CUDA build: {torch.version.cuda})'))
    return found


def check_drn_mm() -> List[Finding]:
    try:
        drn_mm = importlib.import_module('drn_mm')
    except Exception as e:
        return [Finding(FAIL, 'import drn_mm', f'{type(e).__name__}: {e}')]
    found = [Finding(OK, 'import drn_mm', f'{drn_mm.__version__} from {drn_mm.__file__}')]
    wanted = {
        'mmseg': ('DRN', 'DegriddingNeck', 'DRNSegHead', 'DRNTTAModel'),
        'mmpretrain': ('DRN', 'DegriddingNeck', 'CAMHead')
    }
    for library, names in wanted.items():
        try:
            registry = importlib.import_module(f'{library}.registry')
        except Exception as e:
            found.append(Finding(FAIL, f'{library} registry', f'{type(e).__name__}: {e}'))
            continue
        missing = [n for n in names if registry.MODELS.get(n) is None]
        found.append(
            Finding(FAIL, f'{library} registry', f'missing: {missing}') if missing else Finding(
                OK, f'{library} registry', f'{", ".join(names)} registered'))
    from mmengine.runner import CheckpointLoader

    from drn_mm.apis.scheme import DRN_SCHEME, load_from_drn
    found.append(
        Finding(OK, 'checkpoint scheme', f"{DRN_SCHEME}FILE reads the authors' DRN files "
                'anywhere a checkpoint is named') if CheckpointLoader._schemes.get(DRN_SCHEME) is
        load_from_drn else Finding(FAIL, 'checkpoint scheme', f'{DRN_SCHEME} is not registered'))
    return found


def check_optional() -> List[Finding]:
    found = []
    gradcam = None
    try:
        from importlib.metadata import version
        gradcam = version('grad-cam')
    except Exception:
        pass
    if gradcam is None:
        found.append(
            Finding(
                INFO, 'grad-cam', "not installed (pip install 'drn_mm[vis]' for "
                "mmpretrain's vis_cam.py; drn_mm's tools/vis_cam.py needs none)"))
    elif _parse(gradcam) >= _parse('1.5'):
        found.append(
            Finding(
                WARN, 'grad-cam', f"{gradcam}: mmpretrain's vis_cam.py fails with "
                "grad-cam >= 1.5 (use_cuda); pip install 'grad-cam<1.5'"))
    else:
        found.append(Finding(OK, 'grad-cam', gradcam))
    for module, use, extra in (('tensorboard', 'the TensorBoard vis backend',
                                'vis'), ('seaborn', "mmseg's analyze_logs.py", 'vis'),
                               ('mim', 'mim search/train/test drn_mm', 'mim')):
        version = _version(module)
        found.append(
            Finding(
                INFO, module, version if version else f'not installed, for {use}: '
                f"pip install 'drn_mm[{extra}]'"))
    return found


CHECKS: List[Callable[[], List[Finding]]] = [
    check_versions, check_mmcv, check_import_traps, check_safe_loading, check_hardware,
    check_drn_mm, check_optional
]


def run_checks(checks=None) -> List[Finding]:
    findings = []
    for check in checks or CHECKS:
        try:
            findings.extend(check())
        except Exception as e:  # a check that breaks is itself a finding
            findings.append(Finding(FAIL, check.__name__, f'{type(e).__name__}: {e}'))
    return findings


def main(argv=None) -> int:
    findings = run_checks()
    width = max(len(f.name) for f in findings)
    for f in findings:
        print(f'[{f.status:>4}] {f.name:<{width}}  {f.detail}')
    failed = [f.name for f in findings if f.status == FAIL]
    warned = [f.name for f in findings if f.status == WARN]
    print(f'drn_mm doctor: {len(failed)} problem(s){": " + ", ".join(failed) if failed else ""}; '
          f'{len(warned)} warning(s){": " + ", ".join(warned) if warned else ""}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

"""Inference precision for segmentors on the hardware at hand: fp32, bf16 and INT8 paths behind one
interface, chosen from what the CPU has.

- ``fp32``: the model as it is (eager). Evaluation stays here by default: it reproduces published
  numbers.
- ``bf16``: a copy with BatchNorm folded into the convs, in channels_last, under
  ``torch.autocast(bfloat16)``. Fast where the CPU has bf16 in hardware (AVX-512 BF16, AMX-BF16)
  or on a GPU; on a CPU without it bf16 is emulated and slower than fp32.
- ``int8``: post-training static quantization with ONNX Runtime (the maintained stack available
  here: torch 2.14 dropped ``torch.ao``'s PT2E flow in favour of torchao, which is not installed):
  the BN-folded ONNX graph of :func:`~drn_mm.deploy.export_onnx`, QDQ with per-channel int8
  weights and uint8 activations calibrated on a few of the config's images, run by ONNX Runtime's
  CPU provider (VNNI / AMX-INT8 kernels where the CPU has them).
- ``auto``: the fastest of fp32, bf16 (where the hardware has it) and int8 (CPU, onnxruntime)
  whose labels agree with fp32 on the calibration images (>= :data:`AGREEMENT_MIN`), timed side
  by side on them; the choice and its reason (every candidate's time and agreement) are returned
  (and logged). See :func:`choose_precision`.

Every path is a :class:`Predictor`: normalized (N, 3, H, W) float32 in, float32 logits out, the
same as ``segmentor(inputs, mode='tensor')``.
"""
import copy
import os.path as osp
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from ..hardware import ISA_FLAGS, cpu_bf16_hardware, cpu_info
from .fold_bn import fold_batchnorm

__all__ = [
    'PRECISIONS', 'AGREEMENT_MIN', 'cpu_features', 'has_bf16_hardware', 'Predictor',
    'build_predictor', 'label_agreement', 'choose_precision', 'calibration_batches',
    'use_predictor', 'apply_precision', 'set_inference_precision'
]

PRECISIONS = ('fp32', 'bf16', 'int8', 'auto')
#: the label agreement with fp32 a faster path must reach on the calibration images for 'auto'
AGREEMENT_MIN = 0.99


def cpu_features() -> Dict[str, object]:
    """The CPU model, torch's threads and the ISA flags that decide the fast paths."""
    model, flags = cpu_info()
    return dict(cpu=model, threads=torch.get_num_threads(),
                **{name: name in flags
                   for name in ISA_FLAGS})


def has_bf16_hardware(device: str = 'cpu') -> bool:
    if device.startswith('cuda'):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cpu_bf16_hardware()


class Predictor:
    """Normalized inputs -> float32 logits. ``precision``: the path; ``detail``: how it runs."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], precision: str, detail: str):
        self.fn, self.precision, self.detail = fn, precision, detail

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.fn(inputs).float()


def _fp32(model: nn.Module) -> Predictor:
    device = next(model.parameters()).device
    return Predictor(lambda x: model(x.to(device), mode='tensor'), 'fp32', 'eager float32')


def _bf16(model: nn.Module) -> Predictor:
    device = next(model.parameters()).device
    fast = fold_batchnorm(copy.deepcopy(model)).eval().to(memory_format=torch.channels_last)

    def run(x):
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            return fast(x, mode='tensor')

    return Predictor(run, 'bf16', 'BN folded, channels_last, autocast bfloat16')


class _Calibration:
    """onnxruntime's CalibrationDataReader over a list of input tensors."""

    def __init__(self, inputs: Sequence[torch.Tensor]):
        self.items = iter([{'inputs': x.numpy()} for x in inputs])

    def get_next(self):
        return next(self.items, None)

    def rewind(self):  # onnxruntime >= 1.16 may call it
        pass


def _int8(model: nn.Module, calibration: Sequence[torch.Tensor],
          workdir: Optional[str]) -> Predictor:
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .onnx import export_onnx
    if not calibration:
        raise ValueError('int8 needs calibration inputs (a few normalized images of the data)')
    workdir = workdir or tempfile.mkdtemp(prefix='drn_mm_int8_')
    fp32_path = osp.join(workdir, 'model_fp32.onnx')
    prep_path = osp.join(workdir, 'model_prep.onnx')
    int8_path = osp.join(workdir, 'model_int8.onnx')
    size = tuple(calibration[0].shape[2:])
    export_onnx(model, fp32_path, size=size, batch=1, fold_bn=True, dynamic=True)
    quant_pre_process(fp32_path, prep_path, skip_symbolic_shape=True)
    quantize_static(prep_path, int8_path,
                    _Calibration([x[i:i + 1] for x in calibration
                                  for i in range(x.shape[0])]), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(int8_path, options, providers=['CPUExecutionProvider'])

    def run(x):
        return torch.from_numpy(session.run(['logits'], {'inputs': x.cpu().numpy()})[0])

    return Predictor(
        run, 'int8', f'ONNX Runtime {ort.__version__} static QDQ (per-channel int8 '
        f'weights, uint8 activations, MinMax on {len(calibration)} batches): '
        f'{int8_path}')


def build_predictor(model: nn.Module, precision: str = 'fp32',
                    calibration: Optional[Sequence[torch.Tensor]] = None,
                    workdir: Optional[str] = None) -> Predictor:
    """A :class:`Predictor` of ``model`` (an mmseg segmentor in eval mode) at ``precision``
    ('fp32', 'bf16', 'int8'; 'auto': :func:`choose_precision`). ``model`` is not changed."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision={precision!r}; valid: {PRECISIONS}')
    model.eval()
    if precision == 'auto':
        return choose_precision(model, calibration or [], workdir=workdir)[0]
    if precision == 'fp32':
        return _fp32(model)
    if precision == 'bf16':
        return _bf16(model)
    return _int8(model, calibration or [], workdir)


def label_agreement(a: Predictor, b: Predictor, inputs: Sequence[torch.Tensor]) -> float:
    """The fraction of pixels where the argmax labels of ``a`` and ``b`` agree on ``inputs``."""
    same = total = 0
    for x in inputs:
        la, lb = a(x).argmax(1), b(x).argmax(1)
        same += int((la == lb).sum())
        total += la.numel()
    return same / max(total, 1)


def _int8_available(device: str) -> Optional[str]:
    """None where the int8 path can run, else why not."""
    if not device.startswith('cpu'):
        return f'int8 runs on the CPU (ONNX Runtime), the model is on {device}'
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return 'int8 needs onnxruntime (pip install onnxruntime)'
    return None


def choose_precision(model: nn.Module, calibration: Sequence[torch.Tensor], repeats: int = 3,
                     workdir: Optional[str] = None) -> Tuple[Predictor, str]:
    """'auto': the fastest path whose labels agree with fp32 on ``calibration`` (a fraction of
    the pixels >= :data:`AGREEMENT_MIN`).

    Candidates: fp32 always; bf16 where the device has bf16 hardware (emulated bf16 is slower than
    fp32, so it is not tried); int8 on a CPU with onnxruntime, calibrated on ``calibration``. Each
    candidate is timed on the first calibration batch, all of them in turn within each of
    ``repeats`` repeats (:func:`~drn_mm.deploy.timing.interleaved_times`), and ranked by its
    minimum. Without calibration images nothing can be checked: fp32. Returns the predictor and
    the reason, in words, with every candidate's time and agreement; ``predictor.candidates``
    holds them (name -> dict(ms, agreement, qualified) or dict(skipped=why)).

    Note that int8 is checked on the images it was calibrated on; the tools report agreement on
    those same images, so check a held-out set (tools/test.py's metrics) before trusting it.
    """
    from .timing import interleaved_times

    device = str(next(model.parameters()).device)
    fp32 = _fp32(model)
    if not calibration:
        fp32.candidates = dict(fp32=dict(ms=None, agreement=1.0, qualified=True))
        return _explained(fp32, 'fp32: no calibration images to check faster paths against fp32')
    candidates, predictors = {}, dict(fp32=fp32)
    if has_bf16_hardware(device):
        predictors['bf16'] = _bf16(model)
    else:
        candidates['bf16'] = dict(skipped=f'{device} has no bf16 hardware (bf16 would be '
                                  'emulated, slower than fp32)')
    why_not = _int8_available(device)
    if why_not is None:
        predictors['int8'] = _int8(model, calibration, workdir)
    else:
        candidates['int8'] = dict(skipped=why_not)
    x = calibration[0]
    times = interleaved_times({
        name: (lambda p=p: p(x))
        for name, p in predictors.items()
    }, repeats=repeats)
    for name, predictor in predictors.items():
        agreement = 1.0 if name == 'fp32' else label_agreement(predictor, fp32, calibration)
        candidates[name] = dict(
            ms=min(times[name]) * 1e3, agreement=agreement, qualified=agreement >= AGREEMENT_MIN)
    best = min((name for name in predictors if candidates[name]['qualified']),
               key=lambda name: candidates[name]['ms'])
    chosen = predictors[best]
    chosen.candidates = candidates
    said = '; '.join(
        f'{name} skipped: {c["skipped"]}' if 'skipped' in
        c else f'{name} {c["ms"]:.1f} ms, agreement {c["agreement"] * 100:.2f} %'
        f'{"" if c["qualified"] else " (< {:.0f} %: not eligible)".format(AGREEMENT_MIN * 100)}'
        for name, c in candidates.items())
    return _explained(
        chosen, f'{best}: the fastest path whose labels agree with fp32 on >= '
        f'{AGREEMENT_MIN * 100:.0f} % of {len(calibration)} calibration batches\' pixels '
        f'(min of {repeats} interleaved repeats on {tuple(x.shape)}: {said})')


def _explained(predictor: Predictor, reason: str) -> Tuple[Predictor, str]:
    predictor.detail = f'auto chose {reason}; {predictor.detail}'
    return predictor, reason


def calibration_batches(model: nn.Module, dataloader, num_images: int = 8) -> List[torch.Tensor]:
    """Normalized input batches (the model's data preprocessor) from a dataloader's first
    ``num_images`` images: what int8 calibrates on and 'auto' checks agreement on."""
    batches, seen = [], 0
    for data in dataloader:
        with torch.no_grad():
            inputs = model.data_preprocessor(data, False)['inputs']
        batches.append(inputs.float().cpu())
        seen += inputs.shape[0]
        if seen >= num_images:
            break
    return batches


def _predictor_segmentor_class():
    from mmseg.models import EncoderDecoder
    from mmseg.models.segmentors.base import BaseSegmentor

    class PredictorSegmentor(EncoderDecoder):
        """An mmseg ``EncoderDecoder`` whose logits come from a :class:`Predictor`: every
        prediction (``test_step``, ``predict``, ``inference_model``, the test loop, TTA, slide
        or whole inference) runs mmseg's own code around :meth:`encode_decode`, which is the
        predictor's logits through the decode head's ``predict_by_feat`` (resize to the image).
        It shares the segmentor's modules (its ``_forward`` stays the fp32 model) and changes
        nothing of it."""

        def __init__(self, segmentor: nn.Module, predictor: 'Predictor'):
            BaseSegmentor.__init__(self, data_preprocessor=segmentor.data_preprocessor)
            self.backbone = segmentor.backbone
            if segmentor.with_neck:
                self.neck = segmentor.neck
            self.decode_head = segmentor.decode_head
            if segmentor.with_auxiliary_head:
                self.auxiliary_head = segmentor.auxiliary_head
            for name in ('align_corners', 'num_classes', 'out_channels', 'train_cfg', 'test_cfg',
                         'dataset_meta', 'cfg'):
                if hasattr(segmentor, name):
                    setattr(self, name, getattr(segmentor, name))
            self.predictor = predictor
            self.inference_precision = predictor.precision
            self.eval()

        def encode_decode(self, inputs, batch_img_metas):
            logits = self.predictor(inputs).to(inputs.device)
            return self.decode_head.predict_by_feat(logits, batch_img_metas)

    return PredictorSegmentor


def use_predictor(model: nn.Module, predictor: Predictor) -> nn.Module:
    """An mmseg segmentor whose predictions go through ``predictor`` (a ``PredictorSegmentor``
    sharing ``model``'s modules; ``model`` itself is not changed)."""
    from mmseg.models import EncoderDecoder
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f'inference precision: {type(model).__name__} is not an mmseg '
                        'EncoderDecoder; only its encode_decode step can run another precision')
    return _predictor_segmentor_class()(model, predictor)


def apply_precision(model: nn.Module, precision: str, calibration: Sequence[torch.Tensor],
                    workdir: Optional[str] = None) -> Tuple[nn.Module, Predictor, float]:
    """Build ``precision``'s predictor (int8 calibrated on ``calibration``), measure its label
    agreement with fp32 on the same batches and return the segmentor that predicts through it
    (:func:`use_predictor`), the predictor and the agreement (a fraction)."""
    predictor = build_predictor(model, precision, calibration, workdir=workdir)
    agreement = label_agreement(predictor, build_predictor(model, 'fp32'), calibration)
    return use_predictor(model, predictor), predictor, agreement


def set_inference_precision(model, precision: str, images=()) -> Tuple[nn.Module, str]:
    """A segmentor predicting through a bf16 / int8 / 'auto' path
    (:mod:`drn_mm.deploy.precision`), calibrated (int8) and checked against fp32 ('auto', and the
    returned agreement) on ``images`` (files, through the model's test pipeline). Returns it and
    what runs, in words (``model`` itself for fp32)."""
    from mmengine.registry import DefaultScope
    from mmseg.apis.utils import _preprare_data

    if precision == 'fp32':
        return model, 'fp32 eager'
    with DefaultScope.overwrite_default_scope('mmseg'):
        batches = [_preprare_data(image, model)[0] for image in images]
    calibration = calibration_batches(model, batches, len(batches))
    model, predictor, agreement = apply_precision(model, precision, calibration)
    return model, (f'{predictor.precision} ({predictor.detail}); labels agree with fp32 on '
                   f'{agreement * 100:.2f} % of {len(calibration)} image(s)')

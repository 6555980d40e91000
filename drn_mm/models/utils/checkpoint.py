"""Reading checkpoint files and checking that weights fit a model, strictly.

The one read of a checkpoint file (:func:`load_checkpoint_file`: the SHA-256 its name carries
checked, then read once with torch's weights-only loader, errors naming the file) and the fit
checks. Nothing here knows a key layout: the DRN layouts and their conversion live beside the
model (:mod:`drn_mm.models.backbones.drn_checkpoint`).
"""
import hashlib
import io
import logging
import os
import os.path as osp
import pickle
import re
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn

#: the global a weights-only unpickler refused, as torch names it ('GLOBAL posix.system')
_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')

__all__ = [
    'check_finite', 'CheckpointError', 'UnreadableCheckpointError', 'CheckpointMismatchError',
    'load_checkpoint_file', 'extract_state_dict', 'strip_module_prefix', 'check_state_dict_fits',
    'describe', 'read_error', 'sha256_of', 'ChecksumError', 'check_sha256_name',
    'CheckpointDownloadError', 'CHECKPOINTS_ENV', 'checkpoint_folders', 'fetch_checkpoint'
]

#: ``name-<hex>.pth``: the hex digits are the start of the file's SHA-256 (torch.hub's convention)
_HASHED_NAME = re.compile(r'-([0-9a-f]{8,64})\.(pth|pt|ckpt)$')


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read (missing, truncated, corrupt, not a checkpoint)."""


class UnreadableCheckpointError(CheckpointError):
    """A checkpoint file that cannot be read at all: missing, truncated, corrupt, holding code,
    or no state dict (``--resume`` then tries the next newest checkpoint)."""


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the model it is loaded into."""


class ChecksumError(UnreadableCheckpointError):
    """A file whose SHA-256 does not start with the digits its name carries."""


class CheckpointDownloadError(UnreadableCheckpointError):
    """A checkpoint URL that could not be downloaded, and no copy of it in the folders searched
    first (:func:`checkpoint_folders`)."""


#: folders (``os.pathsep``-separated) searched for a checkpoint before its URL is downloaded
CHECKPOINTS_ENV = 'DRN_MM_CHECKPOINTS'


def checkpoint_folders() -> list:
    """Where a checkpoint named by a URL is looked for before any download, in order: the
    folders of ``$DRN_MM_CHECKPOINTS``, then torch hub's cache (``$TORCH_HOME/hub/checkpoints``,
    where downloads go)."""
    import torch.hub
    folders = [f for f in os.environ.get(CHECKPOINTS_ENV, '').split(os.pathsep) if f]
    return folders + [osp.join(torch.hub.get_dir(), 'checkpoints')]


def fetch_checkpoint(url: str) -> str:
    """The local path of the checkpoint ``url`` names: a copy of its file name in
    :func:`checkpoint_folders` (the first found), else downloaded into torch hub's cache (through
    a temporary name). A download that fails is a :class:`CheckpointDownloadError` naming the
    file, the URL, the folders searched and how a copy is verified. The caller reads the file
    with :func:`load_checkpoint_file`, which checks the SHA-256 digits of its name wherever it
    was found."""
    from urllib.parse import urlparse

    import torch.hub
    name = osp.basename(urlparse(url).path)
    folders = checkpoint_folders()
    for folder in folders:
        path = osp.join(osp.expanduser(folder), name)
        if osp.isfile(path):
            return path
    target = osp.join(folders[-1], name)
    os.makedirs(folders[-1], exist_ok=True)
    partial = f'{target}.part{os.getpid()}'
    try:
        torch.hub.download_url_to_file(url, partial, progress=False)
        os.replace(partial, target)
    except Exception as e:
        match = _HASHED_NAME.search(name)
        how = (f'it is verified against the SHA-256 digits in its name ({match.group(1)})'
               if match else 'its name carries no checksum: it is loaded unverified, with a '
               'warning (compare its SHA-256 with a source you trust)')
        raise CheckpointDownloadError(
            f'{name}: cannot download {url} ({type(e).__name__}: {e}). The authors\' server '
            '(dl.yf.io) does not answer for many users (github.com/fyu/drn issue 45). With a copy '
            f'of {name} from elsewhere, put it in ${CHECKPOINTS_ENV} or {folders[-1]} (searched '
            f'first, in this order: {folders}); {how}') from e
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return target


def check_sha256_name(filename: str, digest: Optional[str] = None) -> Optional[str]:
    """If ``filename`` is named ``*-<hex>.pth``, check that its SHA-256 starts with ``<hex>``.

    ``digest``: the file's SHA-256 where the caller has it (no second read). Returns the full
    digest when checked (``None`` for names without digits). Raises :class:`ChecksumError`
    naming the file, its size and both digests.
    """
    match = _HASHED_NAME.search(osp.basename(filename))
    if match is None or not osp.isfile(filename):
        return None
    digest = digest or sha256_of(filename)
    if not digest.startswith(match.group(1)):
        raise ChecksumError(
            f'{filename}: its name says its SHA-256 starts with {match.group(1)}, but the file '
            f'({osp.getsize(filename):,} bytes) hashes to {digest[:len(match.group(1))]} '
            f'({digest}): the download is truncated or corrupt; download it again. (If you named '
            'this file yourself, drop the "-<hex>" ending: it is read as a checksum.)')
    return digest


def strip_module_prefix(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}


def read_error(filename: str, e: Exception) -> UnreadableCheckpointError:
    """The error for a checkpoint file that could not be read: it names the file and, for a file
    that holds code, the global a weights-only unpickler refused and how to convert the file."""
    code = _GLOBAL.search(str(e)) if 'weights_only' in str(e).lower() or isinstance(
        e, pickle.UnpicklingError) else None
    if code is not None:
        return UnreadableCheckpointError(
            f'{filename} contains code: loading it would call {code.group(1)}, which is not '
            'a tensor, number or container. drn_mm reads checkpoints without running code '
            '(torch.load weights_only=True) and will not run it. If you trust the file and '
            'who made it, convert it once to plain tensors: python -c "import torch; '
            f"ckpt = torch.load('{filename}', weights_only=False); "
            "torch.save(dict(state_dict=ckpt['state_dict']), 'weights.pth')\"")
    return UnreadableCheckpointError(
        f'cannot read checkpoint {filename}: {type(e).__name__}: {e}. The file may be '
        'truncated or corrupt, or not a PyTorch checkpoint.')


def load_checkpoint_file(filename: str, map_location='cpu', with_sha256: bool = False):
    """Read a checkpoint once: a local file's bytes are read one time, hashed where its name
    carries SHA-256 digits (checked) or ``with_sha256`` asks, and unpickled by
    ``torch.load(weights_only=True)``; any other URI goes to mmengine's ``CheckpointLoader``
    (``http(s)://``, ``drn://``, ...). Errors name the file.

    Returns the checkpoint, or ``(checkpoint, sha256)`` with ``with_sha256`` (``None`` for URIs).
    """
    from mmengine.runner import CheckpointLoader

    digest = None
    try:
        if filename.startswith(('http://', 'https://')):
            url, filename = filename, fetch_checkpoint(filename)
            if not _HASHED_NAME.search(osp.basename(filename)):
                from mmengine.logging import print_log
                print_log(
                    f'{filename} (for {url}) is loaded unverified: its name carries no SHA-256 '
                    'digits and none is recorded for it', logger='current', level=logging.WARNING)
        if '://' in filename:
            checkpoint = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
        else:
            filename = osp.expanduser(filename)
            if osp.isdir(filename):
                raise UnreadableCheckpointError(
                    f'{filename} is a directory, not a checkpoint file; name a .pth file in it '
                    '(e.g. the work dir\'s iter_N.pth, or its last_checkpoint\'s)')
            if not osp.isfile(filename):
                why = ' (a broken link)' if osp.islink(filename) else ''
                raise UnreadableCheckpointError(f'checkpoint file not found: {filename}{why}')
            with open(filename, 'rb') as f:
                data = f.read()
            if with_sha256 or _HASHED_NAME.search(osp.basename(filename)):
                digest = hashlib.sha256(data).hexdigest()
                check_sha256_name(filename, digest)
            checkpoint = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except CheckpointError:
        raise
    except Exception as e:  # torch raises many types for truncated / corrupt / foreign files
        raise read_error(filename, e) from e
    if not isinstance(checkpoint, Mapping):
        raise UnreadableCheckpointError(
            f'{filename} holds a {type(checkpoint).__name__}, not a state dict')
    return (checkpoint, digest) if with_sha256 else checkpoint


def check_finite(state_dict: Mapping[str, torch.Tensor], source: str = 'checkpoint') -> None:
    """A :class:`CheckpointError` naming the first tensor of ``state_dict`` that holds NaN or
    Inf (a diverged run's weights predict one class everywhere, silently)."""
    for key, value in state_dict.items():
        if torch.is_tensor(value) and value.is_floating_point() and not bool(
                torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise CheckpointError(f'{source}: {key} holds {bad} non-finite value(s) (NaN/Inf) of '
                                  f'{value.numel()}: the weights of a diverged run; use an '
                                  'earlier checkpoint')


def extract_state_dict(checkpoint: Mapping) -> Mapping[str, torch.Tensor]:
    """The model weights of a checkpoint: its ``state_dict`` (or ``model``) entry, else itself."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    return checkpoint


def _fmt_shape(t) -> str:
    return str(list(t.shape))


def check_state_dict_fits(module: nn.Module, state_dict: Mapping[str, torch.Tensor], what: str,
                          source: str = 'checkpoint', max_items: int = 5):
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` fits ``module`` exactly.

    BatchNorm ``num_batches_tracked`` may be absent (the authors' 2017 files lack it).
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        k for k in state_dict if k in expected and state_dict[k].shape != expected[k].shape
    ]
    if not (missing or unexpected or mismatched):
        check_finite(state_dict, source)
        return
    parts = []
    if mismatched:
        parts.append(f'{len(mismatched)} shape mismatches (first: ' + ', '.join(
            f'{k}: checkpoint {_fmt_shape(state_dict[k])} vs model {_fmt_shape(expected[k])}'
            for k in mismatched[:max_items]) + ')')
    if missing:
        parts.append(f'{len(missing)} keys missing from the checkpoint (first: ' +
                     ', '.join(f'{k} {_fmt_shape(expected[k])}' for k in missing[:max_items]) + ')')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (first: ' +
                     ', '.join(f'{k} {_fmt_shape(state_dict[k])}'
                               for k in unexpected[:max_items]) + ')')
    raise CheckpointMismatchError(f'{source} does not fit {what}: ' + '; '.join(parts) +
                                  '. Is it a checkpoint of another arch?')


def describe(module: nn.Module) -> str:
    """``DRN(arch='D-22')``; a model with a backbone: ``EncoderDecoder(backbone=DRN(...))``."""
    arch = getattr(module, 'arch', None)
    if arch:
        return f'{type(module).__name__}(arch={arch!r})'
    backbone = getattr(module, 'backbone', None)
    if isinstance(backbone, nn.Module):
        return f'{type(module).__name__}(backbone={describe(backbone)})'
    return type(module).__name__


def sha256_of(filename: str, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file, hex, read in chunks."""
    digest = hashlib.sha256()
    with open(filename, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()

#!/usr/bin/env bash
# Set up (or refresh) the drn_mm environment unattended; safe to run again.
#
#   bash tools/setup_env.sh            # venv at ./.venv (DRN_MM_VENV overrides)
#
# - Uses the torch already importable by $PYTHON (e.g. a CUDA build on a GPU box) through
#   --system-site-packages; otherwise installs torch 2.14.1 + torchvision 0.29.1.
# - mmcv 2.1.0 has no wheels on PyPI: it is built once from the sdist with its compiled CPU ops
#   (C++20 for torch >= 2.14 headers, setuptools<82, --no-build-isolation) and the wheel is kept in
#   $DRN_MM_CACHE/mmcv/<torch version>-<python tag>/, so a warm set-up only installs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${DRN_MM_VENV:-$ROOT/.venv}
CACHE=${DRN_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drn_mm}
PYTHON=${PYTHON:-python3}
CONSTRAINTS=$ROOT/tools/constraints.txt
MMCV_VERSION=2.1.0
# DRN, its heads and the baselines call no mmcv op (mmseg only imports them): the ops are built
# with little optimization and no debug info (-O1 -g0: about half the build time of the
# interpreter's default -O3 -g, and a 2 MB extension instead of 32 MB). The flags are part of the
# wheel cache's key, so a wheel built with other flags is never taken for this one.
MMCV_CFLAGS=${DRN_MM_MMCV_CFLAGS:--O1 -g0}

log() { printf '[setup_env %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
    if "$PYTHON" -c 'import torch, torchvision' 2>/dev/null; then
        log "torch found in $PYTHON: creating $VENV on top of it (--system-site-packages)"
        "$PYTHON" -m venv --system-site-packages "$VENV"
    else
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
fi
PY=$VENV/bin/python
# --no-compile: the venv is byte-compiled once, at the end (see there).
pip_install() { "$PY" -m pip install --disable-pip-version-check --no-compile -q "$@"; }

pip_install "setuptools<82" wheel ninja packaging
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
    log "installing torch and torchvision"
    pip_install -c "$CONSTRAINTS" torch torchvision
fi
TORCH_TAG=$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-cp{sys.version_info[0]}{sys.version_info[1]}")')
log "using $TORCH_TAG"
# From here on pip must keep the torch that is there (ours, or a GPU box's own CUDA build).
PINS=$(mktemp)
trap 'rm -f "$PINS"' EXIT
grep -vE '^(torch|torchvision)==' "$CONSTRAINTS" > "$PINS"
"$PY" -c 'import torch, torchvision; v = lambda m: m.__version__.split("+")[0]; print(f"torch=={v(torch)}\ntorchvision=={v(torchvision)}")' >> "$PINS"

mmcv_ok() { "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }
if ! mmcv_ok; then
    FLAGS_TAG=$(printf '%s' "$MMCV_CFLAGS" | tr -c 'A-Za-z0-9' '_')
    WHEELS=$CACHE/mmcv/$TORCH_TAG/cflags$FLAGS_TAG
    WHEEL=$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$WHEEL" ]; then
        log "no cached mmcv wheel for $TORCH_TAG (CFLAGS $MMCV_CFLAGS): building mmcv $MMCV_VERSION with CPU ops (5-10 min on 2 cores)"
        BUILD=$(mktemp -d)
        trap 'rm -rf "$BUILD" "$PINS"' EXIT
        "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
            "mmcv==$MMCV_VERSION" -d "$BUILD"
        tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
        # torch >= 2.14 headers refuse anything older than C++20; C++20 also builds against older torch.
        sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
        grep -q 'std=c++20' "$BUILD/mmcv-$MMCV_VERSION/setup.py" || { log "could not raise mmcv's C++ standard"; exit 1; }
        (cd "$BUILD/mmcv-$MMCV_VERSION" && \
            CFLAGS="$MMCV_CFLAGS" CXXFLAGS="$MMCV_CFLAGS" MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES= MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "$PY" -m pip wheel --disable-pip-version-check -q --no-build-isolation --no-deps . -w "$BUILD/dist")
        mkdir -p "$WHEELS"
        # Copy then rename, so an interrupted set-up never leaves half a wheel in the cache.
        built=$(ls "$BUILD"/dist/mmcv-*.whl)
        cp "$built" "$WHEELS/.partial.whl"
        mv "$WHEELS/.partial.whl" "$WHEELS/$(basename "$built")"
        WHEEL="$WHEELS/$(basename "$built")"
        log "cached $WHEEL"
    else
        log "using cached $WHEEL"
    fi
    pip_install -c "$PINS" "$WHEEL"
    mmcv_ok || { log "mmcv $MMCV_VERSION still does not import with its ops from $VENV"; exit 1; }
fi

log "installing drn_mm (editable) with mmsegmentation, mmpretrain and the test tools"
pip_install -c "$PINS" -e "$ROOT[tests]"
# openmim for `mim search/train/test drn_mm` (and its test): without its opendatalab/openxlab
# dependencies (dataset downloads), which would downgrade setuptools, requests and packaging.
if ! "$PY" -c 'import mim' 2>/dev/null; then
    pip_install --no-deps "openmim==0.3.9"
fi
pip_install colorama pandas tabulate
# Byte-compile the venv once (and again after an install): pip runs with --no-compile above, and a
# shell with PYTHONDONTWRITEBYTECODE=1 (these machines set it) never writes .pyc files, so every
# `python` would compile torch, mmengine, mmseg and mmpretrain from source on each start: 20 s an
# `import drn_mm` on a 2-core machine, 8 s compiled. The suite starts some 40 tool processes.
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
STAMP=$SITE/.drn_mm_bytecode
# drn_mm's own entries (its editable install, rewritten by every set-up) and the top-level
# __pycache__ (written by compiling) say nothing new was installed.
if [ ! -f "$STAMP" ] || [ -n "$(find "$SITE" -mindepth 1 -maxdepth 1 -newer "$STAMP" ! -name '*drn_mm*' ! -name __pycache__ -print -quit)" ]; then
    log "byte-compiling $SITE (about a minute, once)"
    # a few packages ship files that are not Python 3 (templates, tests): compileall's rc is 1
    "$PY" -m compileall -q -j 0 "$SITE" >/dev/null 2>&1 || true
    touch "$STAMP"
fi
"$PY" -c 'import drn_mm, mmseg.models, mmpretrain.models; print("drn_mm", drn_mm.__version__, "ready")'
log "done: activate with 'source $VENV/bin/activate'"

#!/usr/bin/env bash
# The linters mmseg's pre-commit runs, on the whole tree: flake8, isort --check, yapf --diff.
#   bash tools/lint.sh          # check (what .ci/run does)
#   bash tools/lint.sh --fix    # rewrite imports (isort) and formatting (yapf) in place
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${DRN_MM_VENV:-$ROOT/.venv}/bin/python
cd "$ROOT"
PATHS=(drn_mm tools tests configs setup.py)
if [ "${1:-}" = "--fix" ]; then
    "$PY" -m isort "${PATHS[@]}"
    "$PY" -m yapf -i -r "${PATHS[@]}"
fi
"$PY" -m flake8 "${PATHS[@]}"
"$PY" -m isort --check-only --diff "${PATHS[@]}"
"$PY" -m yapf --diff -r "${PATHS[@]}"
echo "lint: flake8, isort and yapf clean"

#!/usr/bin/env bash
# Set everything up (tools/setup_env.sh, idempotent) and run the test suite.
#   bash tools/run_tests.sh [pytest args...]
# The tests marked slow (end-to-end runs of a minute or more) run with --run-slow, which this
# script adds under CI=true (.ci/run): CI runs every test once, a local run the fast ones.
# Tests run in parallel over the cores (see below).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
VENV=${DRN_MM_VENV:-$ROOT/.venv}
cd "$ROOT"
set +e
SLOW=()
if [ "${CI:-}" = "true" ]; then SLOW=(--run-slow); fi
# One pytest worker per core (pytest-xdist, at most 4: each holds models and a Runner), a test
# file per worker (--dist loadfile: a module's fixtures, e.g. a trained checkpoint, are built
# once), torch at one thread per worker so that the workers do not fight over the cores.
# DRN_MM_TEST_WORKERS=1 runs in one process.
WORKERS=${DRN_MM_TEST_WORKERS:-$(nproc)}
if [ "$WORKERS" -gt 4 ]; then WORKERS=4; fi
PARALLEL=()
if [ "$WORKERS" -gt 1 ]; then
    PARALLEL=(-n "$WORKERS" --dist loadfile)
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
fi
"$VENV/bin/python" -m pytest "${PARALLEL[@]}" "${SLOW[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "run_tests: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$rc"

#!/usr/bin/env bash
# Set everything up (tools/setup_env.sh, idempotent) and run the test suite.
#   bash tools/run_tests.sh [pytest args...]
# The tests marked slow (end-to-end runs of a minute or more) run with --run-slow, which this
# script adds under CI=true (.ci/run): CI runs every test once, a local run the fast ones.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
VENV=${DRN_MM_VENV:-$ROOT/.venv}
cd "$ROOT"
set +e
SLOW=()
if [ "${CI:-}" = "true" ]; then SLOW=(--run-slow); fi
"$VENV/bin/python" -m pytest "${SLOW[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "run_tests: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$rc"

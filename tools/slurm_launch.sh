#!/usr/bin/env bash
# srun launcher behind tools/slurm_train.sh and tools/slurm_test.sh:
#   bash tools/slurm_launch.sh TOOL NARGS PARTITION JOB_NAME ARG_1 .. ARG_NARGS [more TOOL args...]
# runs tools/TOOL ARG_1 .. ARG_NARGS --launcher slurm [more TOOL args...], one task per GPU.
# GPUS (all tasks), GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PYTHON and MASTER_PORT (default 29500)
# from the environment.
set -euo pipefail
TOOL=$1
NARGS=$2
shift 2
if [[ $# -lt $((NARGS + 2)) ]]; then
    echo "slurm_${TOOL%.py}.sh: expected PARTITION JOB_NAME and $NARGS argument(s) for $TOOL;" \
        "got: $*" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
ARGS=("${@:3:$NARGS}")
shift $((NARGS + 2))
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec srun -p "$PARTITION" --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/$TOOL" "${ARGS[@]}" --launcher slurm "$@"

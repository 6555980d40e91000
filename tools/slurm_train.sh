#!/usr/bin/env bash
# Training on a Slurm cluster (one task per GPU).
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
# GPUS (all tasks), GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PYTHON and MASTER_PORT (default 29500)
# from the environment; a job that was killed continues with --resume.
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec srun -p "$PARTITION" --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "$@"

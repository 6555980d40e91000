#!/usr/bin/env bash
# Training on a Slurm cluster (one task per GPU).
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
# GPUS (all tasks), GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PYTHON and MASTER_PORT (default 29500)
# from the environment; a job that was killed continues with --resume.
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_launch.sh" train.py 1 "$@"

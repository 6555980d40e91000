#!/usr/bin/env bash
# Testing on a Slurm cluster (one task per GPU).
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# Environment variables as tools/slurm_train.sh.
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_launch.sh" test.py 2 "$@"

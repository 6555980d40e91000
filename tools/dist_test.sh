#!/usr/bin/env bash
# Distributed testing with torchrun (one process per GPU; on CPUs the backend is gloo).
#   bash tools/dist_test.sh [--nnodes N] [--node-rank R] [--master-addr ADDR] [--master-port P] \
#       CONFIG CHECKPOINT GPUS_PER_NODE [test.py args...]
# Options and environment variables as tools/dist_train.sh.
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" test.py 2 "$@"

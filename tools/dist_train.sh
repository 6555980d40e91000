#!/usr/bin/env bash
# Distributed training with torchrun (one process per GPU; on CPUs the backend is gloo).
#   bash tools/dist_train.sh [--nnodes N] [--node-rank R] [--master-addr ADDR] [--master-port P] \
#       CONFIG GPUS_PER_NODE [train.py args...]
# Multi-node: run on every node with the same --nnodes, --master-addr (node 0's address) and
# --master-port, and --node-rank 0..N-1. The environment variables NNODES, NODE_RANK,
# MASTER_ADDR and PORT give the defaults; PYTHON picks the interpreter (default: python).
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py 1 "$@"

#!/usr/bin/env bash
# Distributed training with torchrun (one process per GPU; on CPUs the backend is gloo).
#   bash tools/dist_train.sh [--nnodes N] [--node-rank R] [--master-addr ADDR] [--master-port P] \
#       CONFIG GPUS_PER_NODE [train.py args...]
# Multi-node: run on every node with the same --nnodes, --master-addr (node 0's address) and
# --master-port, and --node-rank 0..N-1. The environment variables NNODES, NODE_RANK,
# MASTER_ADDR and PORT give the defaults; PYTHON picks the interpreter (default: python).
set -euo pipefail
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --nnodes) NNODES=$2 ;;
        --node-rank) NODE_RANK=$2 ;;
        --master-addr) MASTER_ADDR=$2 ;;
        --master-port) PORT=$2 ;;
        *) echo "dist_train.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
CONFIG=$1
GPUS=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"

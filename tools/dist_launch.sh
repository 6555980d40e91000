#!/usr/bin/env bash
# torchrun launcher behind tools/dist_train.sh and tools/dist_test.sh:
#   bash tools/dist_launch.sh TOOL NARGS [--nnodes N] [--node-rank R] [--master-addr ADDR] \
#       [--master-port P] ARG_1 .. ARG_NARGS GPUS_PER_NODE [more TOOL args...]
# runs tools/TOOL ARG_1 .. ARG_NARGS --launcher pytorch [more TOOL args...] in GPUS_PER_NODE
# processes per node. The environment variables NNODES, NODE_RANK, MASTER_ADDR and PORT give the
# option defaults; PYTHON picks the interpreter (default: python). Rendezvous: static (node 0 at
# MASTER_ADDR:PORT, each node's --node-rank) by default; --rdzv c10d (or RDZV=c10d) uses torchrun's
# c10d rendezvous at MASTER_ADDR:PORT instead (ranks assigned as nodes join; RDZV_ID names the job).
set -euo pipefail
TOOL=$1
NARGS=$2
shift 2
NAME="dist_${TOOL%.py}.sh"
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
RDZV=${RDZV:-static}
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --nnodes) NNODES=$2 ;;
        --node-rank) NODE_RANK=$2 ;;
        --master-addr) MASTER_ADDR=$2 ;;
        --master-port) PORT=$2 ;;
        --rdzv) RDZV=$2 ;;
        *) echo "$NAME: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
if [[ $# -le $NARGS ]]; then
    echo "$NAME: expected $NARGS argument(s) for $TOOL, then GPUS_PER_NODE; got: $*" >&2
    exit 2
fi
ARGS=("${@:1:$NARGS}")
GPUS=${*:$((NARGS + 1)):1}
shift $((NARGS + 1))
case $RDZV in
    static) RENDEZVOUS=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR"
                        --nproc_per_node="$GPUS" --master_port="$PORT") ;;
    c10d) RENDEZVOUS=(--nproc_per_node="$GPUS" --rdzv_backend=c10d
                      --rdzv_endpoint="$MASTER_ADDR:$PORT" --rdzv_id="${RDZV_ID:-drn_mm}") ;;
    *) echo "$NAME: --rdzv $RDZV: expected static or c10d" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" "${RENDEZVOUS[@]}" "$ROOT/tools/$TOOL" "${ARGS[@]}" --launcher pytorch "$@"

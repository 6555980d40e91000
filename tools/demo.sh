#!/usr/bin/env bash
# The main job, out of the box: set up, generate the demo Cityscapes data, train a DRN on it with
# tools/train.py, evaluate per-class IoU with tools/test.py and draw image / ground truth /
# prediction.   bash tools/demo.sh   (outputs in work_dirs/demo/)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
PY=${DRN_MM_VENV:-$ROOT/.venv}/bin/python
CONFIG=configs/demo/drn_d_22_demo_cityscapes-128x256.py
WORK=work_dirs/demo
start=$(date +%s)
"$PY" -m drn_mm.demo.cityscapes --out data/demo_cityscapes
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
CKPT=$(cat "$WORK/last_checkpoint")
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test" --out "$WORK/predictions" \
    --metrics-out "$WORK/test_metrics.json"
"$PY" tools/show_predictions.py "$CONFIG" "$CKPT" --out "$WORK/demo_predictions.png" --num 4
echo "demo finished in $(( $(date +%s) - start )) s (after set-up): metrics in $WORK/test_metrics.json, picture $WORK/demo_predictions.png"

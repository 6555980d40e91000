#!/usr/bin/env bash
# The GPU benchmark in one call, for a bare GPU machine: set up, measure, write JSON + markdown.
#
#   OUT=/path/to/results bash tools/gpu_bench.sh            # on a GPU (results in $OUT)
#   bash tools/gpu_bench.sh --dry-run                        # the same steps on the CPU, tiny sizes
#
# Steps (each result under $OUT, then a summary $OUT/gpu_bench.json and $OUT/gpu_bench.md):
#   1. set-up (tools/setup_env.sh: builds against the machine's own torch; mmcv's ops are built
#      with CUDA_VISIBLE_DEVICES= so the build never needs the GPU). SKIP_SETUP=1 skips it.
#   2. the GPU table: DRN-D-22 / D-38 / D-105 (the authors' Cityscapes recipes) against mmseg's
#      FCN-R50-D8; inference fp32, bf16 + channels_last, + torch.compile; training fp32 and bf16 +
#      channels_last (peak memory per mode, D-105 included).
#   3. CUDA graphs: torch.compile mode 'reduce-overhead' (inference, D-22 and FCN-R50-D8).
#   4. a 2-iteration AMP training through tools/train.py on generated demo data.
# --dry-run runs every step on the CPU at 32x64 with one repeat, and leaves out the compiled modes
# and bf16 training (inductor compiles for minutes on a CPU; bf16 is emulated on CPUs without
# it); its test is tests/test_tools/test_gpu_bench.py.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
if [ $# -gt 0 ]; then echo "gpu_bench.sh: unknown arguments: $*" >&2; exit 2; fi
OUT=${OUT:-$ROOT/work_dirs/gpu_bench}
mkdir -p "$OUT"
log() { printf '[gpu_bench %(%H:%M:%S)T] %s\n' -1 "$*" | tee -a "$OUT/gpu_bench.log" >&2; }

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    log "set-up"
    CUDA_VISIBLE_DEVICES= bash tools/setup_env.sh 2>&1 | tail -n 3 | tee -a "$OUT/gpu_bench.log"
fi
PY=${DRN_MM_VENV:-$ROOT/.venv}/bin/python
"$PY" -m drn_mm.doctor > "$OUT/doctor.txt" 2>&1 || true

CONFIGS=(configs/drn/drn_d_22_cityscapes.py configs/drn/drn_d_38_cityscapes.py
         configs/drn/drn_d_105_cityscapes.py
         configs/baselines/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py)
if [ "$DRY" = 1 ]; then
    DEVICE=cpu
    MODES=(fp32 amp_cl)
    TRAIN_MODES=(fp32)  # bf16 training is emulated (minutes) on CPUs without bf16 hardware
    SIZES=(--infer-size 32 64 --train-size 32 64 --train-batch 2 --flops-size 32 64
           --warmup 1 --repeats 1 --iters 1 --train-iters 1 --train-loops runner)
else
    DEVICE=cuda
    MODES=(fp32 amp_cl amp_cl_compile)
    TRAIN_MODES=(fp32 amp_cl)
    SIZES=(--infer-size 1024 2048 --train-size 512 1024 --train-batch 8 --train-loops runner)
fi

log "the table: ${CONFIGS[*]} on $DEVICE"
"$PY" tools/benchmark.py "${CONFIGS[@]}" --device "$DEVICE" --modes "${MODES[@]}" \
    --train-modes "${TRAIN_MODES[@]}" --infer-batch 1 "${SIZES[@]}" --out-dir "$OUT/table" \
    2>&1 | tail -n 40 >> "$OUT/gpu_bench.log"

if [ "$DRY" = 0 ]; then
    log "CUDA graphs (torch.compile mode reduce-overhead)"
    "$PY" tools/benchmark.py "${CONFIGS[0]}" "${CONFIGS[3]}" --device cuda --modes amp_cl_compile \
        --compile-mode reduce-overhead --infer-batch 1 "${SIZES[@]}" --out-dir "$OUT/cudagraphs" \
        2>&1 | tail -n 20 >> "$OUT/gpu_bench.log" || log "CUDA graphs run failed (see the log)"
fi

log "2-iteration AMP training through tools/train.py"
"$PY" -m drn_mm.demo.cityscapes --out "$OUT/demo_data" --num-train 4 --num-val 2 --size 64 128 \
    >> "$OUT/gpu_bench.log" 2>&1
"$PY" tools/train.py configs/demo/drn_d_22_demo_cityscapes-128x256.py --amp \
    --work-dir "$OUT/amp_train" --cfg-options train_cfg.max_iters=2 train_cfg.val_interval=2 \
    train_dataloader.batch_size=2 train_dataloader.num_workers=0 \
    train_dataloader.persistent_workers=False val_dataloader.num_workers=0 \
    val_dataloader.persistent_workers=False default_hooks.checkpoint.interval=2 \
    default_hooks.logger.interval=1 \
    "train_dataloader.dataset.data_root=$OUT/demo_data" \
    "val_dataloader.dataset.data_root=$OUT/demo_data" \
    "test_dataloader.dataset.data_root=$OUT/demo_data" >> "$OUT/gpu_bench.log" 2>&1

log "summary"
"$PY" -m drn_mm.benchmark.gpu_summary "$OUT" --dry-run "$DRY"
log "done: $OUT/gpu_bench.json, $OUT/gpu_bench.md"

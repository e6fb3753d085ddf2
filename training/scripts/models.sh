#!/usr/bin/env bash
# Trains the four served models on this CPU, stage by stage (the commands the model cards cite).
# It does not export: training/scripts/export.sh does, from the runs it names as served, once a
# run has beaten the served model on validation. Resumable: re-running continues each
# runs/<name>/last.pt and skips finished stages. A fresh machine without runs/ starts each stage from the committed
# float32 checkpoint of the stage before it (training/checkpoints/), or from the served ONNX.
#
#   training/scripts/models.sh            # every stage
#   STAGES="thin-age-3 tiny-age-3" training/scripts/models.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
STAGES=${STAGES:-"prepare thin-age-3 soft-labels tiny-age-3 thin-att-3 tiny-att-3 thin-age-4 soft-labels-4 tiny-age-4 tiny-att-4 thin-att-ens thin-age-ens"}
done_run() { [ -f "runs/$1/result.json" ]; }
train() { $PY -m training.dldl.train "$@" --resume; }
# A stage's starting point: its parent's run if this machine has it, else the committed checkpoint.
parent() { if [ -f "runs/$1/best.pt" ]; then echo "runs/$1/best.pt"; else echo "training/checkpoints/$1.pt"; fi; }

# All age data (UTKFace + All-Age-Faces, hash-split), drawn with square-root balancing over race
# groups and age bands; cosine schedule, AdamW, photo-variation augmentation on 20% of each batch.
# --bf16: bfloat16 autocast, ~3x faster on a CPU with AVX512-BF16 (drop it on one without).
AGE=(--bf16 --dataset utkface --extra aaf --balance 0.5 --epoch-size 16384 --schedule cosine --warmup 1 --wd 0.02 --robust 0.2)
# Attractiveness on both rating panels (MEBeauty 1-10 served, SCUT-FBP5500 1-5 its own head),
# from the age backbones, mean-matched label distributions.
ATT=(--bf16 --dataset mebeauty --extra scut --balance 0.5 --schedule cosine --warmup 1 --wd 0.02 --robust 0.2 --match-mean)

for stage in $STAGES; do
  case $stage in
    prepare)
      [ -f data/aligned/aaf-utkface-64/labels.csv ] || npm run prepare-data -- --set aaf --framing utkface --size 64
      [ -f data/aligned/scut-mebeauty-64/labels.csv ] || npm run prepare-data -- --set scut --framing mebeauty --size 64 ;;
    # Earlier stages (runs/thin-age, thin-age-2: UTKFace only, step schedule) are listed in the
    # cards; their served ONNX is the warm start here (training/dldl/onnx_init.py).
    thin-age-3)
      done_run thin-age-3 || train "${AGE[@]}" --arch thin --init "${THIN_AGE_INIT:-models/ThinAgeNet.onnx}" --epochs 24 --lr 5e-4 --out runs/thin-age-3 ;;
    soft-labels)
      [ -f runs/thin-age-soft.pt ] || $PY -m training.dldl.distill --teacher models/ThinAgeNet.json --dataset utkface --extra aaf --out runs/thin-age-soft.pt ;;
    tiny-age-3)
      done_run tiny-age-3 || train "${AGE[@]}" --arch tiny --init "${TINY_AGE_INIT:-models/TinyAgeNet.onnx}" --teacher runs/thin-age-soft.pt --distill 0.5 \
        --epochs 30 --lr 5e-4 --out runs/tiny-age-3 ;;
    thin-att-3)
      done_run thin-att-3 || train "${ATT[@]}" --arch thin --size 64 --init "$(parent thin-age-3)" --epochs 20 --lr 1e-3 --out runs/thin-att-3 ;;
    tiny-att-3)
      done_run tiny-att-3 || train "${ATT[@]}" --arch tiny --size 64 --init "$(parent tiny-age-3)" --epochs 30 --lr 1e-3 --out runs/tiny-att-3 ;;
    # A second cosine cycle (warm restart) of each age model; TinyAgeNet learns the distributions
    # of both ThinAgeNet snapshots averaged (committed checkpoints, so a fresh machine can redo it).
    thin-age-4)
      done_run thin-age-4 || train "${AGE[@]}" --arch thin --init "$(parent thin-age-3)" --epochs 30 --lr 3e-4 --out runs/thin-age-4 ;;
    soft-labels-4)
      [ -f runs/thin-age-soft-4.pt ] || $PY -m training.dldl.distill --teacher "$(parent thin-age-3)" --teacher "$(parent thin-age-4)" \
        --dataset utkface --extra aaf --out runs/thin-age-soft-4.pt ;;
    tiny-age-4)
      done_run tiny-age-4 || train "${AGE[@]}" --arch tiny --init "$(parent tiny-age-3)" --teacher runs/thin-age-soft-4.pt --distill 0.5 \
        --epochs 20 --lr 3e-4 --out runs/tiny-age-4 ;;
    # TinyAttNet from the served age backbone (tiny-age-4), σ chosen on validation: rater σ x 0.75
    # (x 0.5 / 0.75 / 1.0 / 1.5 tried, runs/tiny-att-4-s<scale>; see models/REPORT.md).
    tiny-att-4)
      done_run tiny-att-4-s0.75 || train "${ATT[@]}" --sigma-scale 0.75 --arch tiny --size 64 --init "$(parent tiny-age-4)" --epochs 30 --lr 1e-3 \
        --out runs/tiny-att-4-s0.75 ;;
    # ThinAttNet as served: thin-att-3 and tiny-att-4-s0.75 answering as one (their distributions
    # averaged; chosen on validation, models/REPORT.md). Nothing is trained; the members' committed
    # checkpoints (written by their exports) hold the weights.
    thin-att-ens)
      done_run thin-att-ens || $PY -m training.dldl.ensemble --out runs/thin-att-ens \
        training/checkpoints/thin-att-3.pt training/checkpoints/tiny-att-4-s0.75.pt ;;
    # ThinAgeNet as served: thin-age-4 and tiny-age-4 answering as one, chosen on validation likewise.
    thin-age-ens)
      done_run thin-age-ens || $PY -m training.dldl.ensemble --out runs/thin-age-ens \
        training/checkpoints/thin-age-4.pt training/checkpoints/tiny-age-4.pt ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Trains the four served models on this CPU (the commands the model cards cite, stage by stage),
# then exports them to models/. Runs are resumable: re-running continues from each
# runs/<name>/last.pt. Each stage fits a 2-core session; more epochs help (see models/REPORT.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
train() { $PY -m training.dldl.train "$@" --resume; }
# Age, from scratch (session 1), then a warm restart at half the learning rate (session 2).
train --dataset utkface --arch tiny --epochs 12 --lr-step 10 --out runs/tiny-age
train --dataset utkface --arch tiny --epochs 12 --lr 5e-4 --lr-step 8 --init runs/tiny-age/best.pt --out runs/tiny-age-2
# The served TinyAgeNet: the same restart with All-Age-Faces added (beat UTKFace-only on val and test).
npm run prepare-data -- --set aaf --framing utkface --size 64
train --dataset utkface --extra aaf --arch tiny --epochs 12 --lr 5e-4 --lr-step 8 --init runs/tiny-age/best.pt --out runs/tiny-age-aaf
train --dataset utkface --arch thin --epochs 10 --lr-step 7 --out runs/thin-age
train --dataset utkface --arch thin --epochs 16 --lr 5e-4 --lr-step 12 --init runs/thin-age/best.pt --out runs/thin-age-2
# Attractiveness: the age backbone, fine-tuned on MEBeauty with per-image rater σ. (TinyAttNet from
# the warm-restarted TinyAgeNet scored worse, val MAE 0.767 vs 0.757, and ThinAttNet from the
# warm-restarted ThinAgeNet scored better on val, 0.776 vs 0.789, but worse on test, 0.786 vs 0.781,
# PC 0.695 vs 0.712, so neither replaced the served models, which start from the stage-1 backbones.)
train --dataset mebeauty --arch tiny --epochs 30 --lr-step 20 --init runs/tiny-age/best.pt --out runs/tiny-att
train --dataset mebeauty --arch thin --epochs 30 --lr-step 20 --init runs/thin-age/best.pt --out runs/thin-att
training/scripts/export.sh

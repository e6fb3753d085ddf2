#!/usr/bin/env bash
# Trains the four served models on this CPU (the commands the model cards cite), then exports
# them to models/. Runs are resumable: re-running continues from each runs/<name>/last.pt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
EPOCHS_TINY=${EPOCHS_TINY:-15}
EPOCHS_THIN=${EPOCHS_THIN:-10}
EPOCHS_ATT=${EPOCHS_ATT:-30}
$PY -m training.dldl.train --dataset utkface --arch tiny --epochs "$EPOCHS_TINY" --out runs/tiny-age --resume
$PY -m training.dldl.train --dataset utkface --arch thin --epochs "$EPOCHS_THIN" --out runs/thin-age --resume
$PY -m training.dldl.train --dataset mebeauty --arch tiny --epochs "$EPOCHS_ATT" --lr-step 20 --init runs/tiny-age/best.pt --out runs/tiny-att --resume
$PY -m training.dldl.train --dataset mebeauty --arch thin --epochs "$EPOCHS_ATT" --lr-step 20 --init runs/thin-age/best.pt --out runs/thin-att --resume

#!/usr/bin/env bash
# Trains the four served models on this CPU (the commands the model cards cite), then exports
# them to models/. Runs are resumable: re-running continues from each runs/<name>/last.pt.
# Budgets fit one 2-core session; more epochs help (see models/REPORT.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
$PY -m training.dldl.train --dataset utkface --arch tiny --epochs 12 --lr-step 10 --out runs/tiny-age --resume
$PY -m training.dldl.train --dataset mebeauty --arch tiny --epochs 30 --lr-step 20 --init runs/tiny-age/best.pt --out runs/tiny-att --resume
$PY -m training.dldl.train --dataset utkface --arch thin --epochs 10 --lr-step 7 --out runs/thin-age --resume
$PY -m training.dldl.train --dataset mebeauty --arch thin --epochs 30 --lr-step 20 --init runs/thin-age/best.pt --out runs/thin-att --resume

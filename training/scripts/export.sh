#!/usr/bin/env bash
# Exports the trained runs to models/ (ONNX + card), rewrites the shared model test vectors
# and models/REPORT.md with its figures. Pass model names to export only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
# The runs of the served models (training/scripts/models.sh); the Tiny models are then quantised to int8.
declare -A RUNS=([TinyAgeNet]=runs/tiny-age-4 [ThinAgeNet]=runs/thin-age-ens [TinyAttNet]=runs/tiny-att-4-s0.75 [ThinAttNet]=runs/thin-att-ens)
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(TinyAgeNet ThinAgeNet TinyAttNet ThinAttNet)
# ORT_PY: a python with torch and onnxruntime for the int8 step (training/dldl/quantize.py's docstring
# says how to make one); by default the same python as the export.
for name in "${names[@]}"; do
  $PY -m training.dldl.export --run "${RUNS[$name]}" --name "$name"
  case $name in Tiny*) ${ORT_PY:-$PY} -m training.dldl.quantize --card "models/$name.json" ;; esac
done
$PY -m training.dldl.vectors --models

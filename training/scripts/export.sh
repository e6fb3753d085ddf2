#!/usr/bin/env bash
# Exports the trained runs to models/ (ONNX + card), rewrites the shared model test vectors
# and models/REPORT.md with its figures. Pass model names to export only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
declare -A RUNS=([TinyAgeNet]=runs/tiny-age-aaf [ThinAgeNet]=runs/thin-age-2 [TinyAttNet]=runs/tiny-att [ThinAttNet]=runs/thin-att)
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(TinyAgeNet ThinAgeNet TinyAttNet ThinAttNet)
for name in "${names[@]}"; do $PY -m training.dldl.export --run "${RUNS[$name]}" --name "$name"; done
$PY -m training.dldl.vectors --models

#!/bin/bash
# Accuracy of the int8 candidates vs the served fp32 models (issue 15, item 3), with the project's
# own evaluation: src/cli/eval.ts --tier fast (one pass, no flip) on model-ready crops, through the
# candidate cards models/int8/<Name>.<variant>.json (made by training/quantize_int8.py; same card,
# `file`/`sha256` pointing at the candidate). eval.ts runs onnxruntime-node; bench/int8.ts checks
# that WASM gives the same values (|web - node| <= 0.05 years on real crops).
#   bash bench/int8-eval.sh [OUT_DIR=/tmp/int8eval] [VARIANTS="qdq qdq-ends qdq-first qdq-pct qdq-gemm"]
#   python3 bench/int8-table.py /tmp/int8eval
# Each utkface split takes ~30 s per model on this 2-core machine.
set -u
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/int8eval}
VARIANTS=${2:-"qdq qdq-ends qdq-first qdq-pct qdq-gemm"}
mkdir -p "$OUT"
ev() { # card set tag
  local out="$OUT/$3__${2/:/_}.json"
  [ -f "$out" ] && return
  nice -n 5 npx tsx src/cli/eval.ts --model "$1" --set "$2" --input crops --tier fast --json "$out" > "${out%.json}.log" 2>&1
}
for s in utkface:val utkface:test; do
  ev models/TinyAgeNet.json $s TinyAgeNet.fp32
  for v in $VARIANTS; do ev models/int8/TinyAgeNet.$v.json $s TinyAgeNet.$v; done
done
for s in mebeauty:val mebeauty:test scut:val scut:test; do
  ev models/TinyAttNet.json $s TinyAttNet.fp32
  for v in $VARIANTS; do ev models/int8/TinyAttNet.$v.json $s TinyAttNet.$v; done
done

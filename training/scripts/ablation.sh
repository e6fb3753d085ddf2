#!/usr/bin/env bash
# Table 6/7 ablation on UTKFace with TinyAgeNet at 64 px: every method, then λ and Δl for
# DLDL-v2, all with the same backbone, size, seed and epoch budget (EPOCHS, default 2 to fit one session).
# Results land in runs/ablation/<row>/result.json; `python3 -m training.dldl.report` tabulates.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
EPOCHS=${EPOCHS:-2}
common=(--dataset utkface --arch tiny --size 64 --epochs "$EPOCHS" --lr-step $(( EPOCHS * 2 / 3 > 0 ? EPOCHS * 2 / 3 : 1 )) --resume)
# A row whose result.json already holds this epoch budget is done; anything else resumes or starts.
done_row() { $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["args"]["epochs"] != int(sys.argv[2]))' "runs/ablation/$1/result.json" "$EPOCHS" 2>/dev/null; }
run() { local row=$1; shift; done_row "$row" && return 0; $PY -m training.dldl.train "${common[@]}" "$@" --out "runs/ablation/$row"; }
run dldl-v2 --method dldl-v2
for m in mr-l2 mr-l1 dex ranking er dldl; do run "$m" --method "$m"; done
run dldl-v2-lam0.1 --method dldl-v2 --lam 0.1
run dldl-v2-lam10 --method dldl-v2 --lam 10
run dldl-v2-delta2 --method dldl-v2 --delta 2

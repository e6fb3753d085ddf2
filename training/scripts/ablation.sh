#!/usr/bin/env bash
# The ablation study of Tables 6 and 7: seven methods, λ ∈ {0, 0.1, 1, 10}, Δl ∈ {0.5, 1, 2, 4},
# a second seed for DLDL-v2 and DLDL; TinyAgeNet at 64 px on UTKFace + AAF, cosine schedule with a
# one-epoch warm-up, the same budget for every row (rows: training/dldl/ablation.py). Resumable:
# rerun the same command after an interruption; finished rows are skipped, the interrupted one
# continues from its last epoch. `python3 -m training.dldl.report` then writes models/REPORT.md.
#
#   EPOCHS=15        epochs per row
#   EPOCH_SIZE=      images per epoch (default: all 24,315 pooled training images)
#   ROWS=            a comma-separated subset, e.g. ROWS=dldl-v2,dldl (default: all 14)
#   RUNS=runs/ablation
#   BACKGROUND=1     detach (own process group, log in $RUNS/study.log); NICE=15 lowers its priority
#   arguments        passed to every train.py call, e.g. `-- --limit 64` for a smoke run
#
#   BACKGROUND=1 NICE=15 training/scripts/ablation.sh          # the whole study, detached
#   python3 -m training.dldl.ablation --status                 # progress
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-runs/ablation}
[ "${1:-}" = "--" ] && shift
if [ "${BACKGROUND:-0}" = 1 ]; then
  mkdir -p "$RUNS"
  BACKGROUND=0 setsid nohup nice -n "${NICE:-0}" "$self" "$@" >> "$RUNS/study.log" 2>&1 < /dev/null &
  echo "ablation study in the background: pid $!, log $RUNS/study.log; stop it with: kill -- -$!"
  exit 0
fi
exec "$PY" -m training.dldl.ablation --epochs "${EPOCHS:-15}" ${EPOCH_SIZE:+--epoch-size "$EPOCH_SIZE"} \
  ${ROWS:+--rows "$ROWS"} --runs "$RUNS" -- "$@"

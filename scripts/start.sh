#!/usr/bin/env bash
# `npm start`: installs what is missing (first run only), then runs the GPU runner on this CPU and
# the edge worker in local workerd, waits until both are healthy and prints the URL.
# Ctrl-C stops both. Options go to scripts/stack.ts: --port 8787 --runner-port 8081 --quiet
set -euo pipefail
cd "$(dirname "$0")/.."
# START_SKIP_SETUP=1 skips it (tests of this script, which must not reinstall a shared checkout).
[ "${START_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
# exec: Ctrl-C reaches the stack process itself, which stops both children's process groups.
exec node --import tsx scripts/stack.ts "$@"

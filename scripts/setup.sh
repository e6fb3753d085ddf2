#!/usr/bin/env bash
# Installs what the project needs on a fresh machine of this kind; quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES="python3-torch python3-torchvision python3-numpy python3-pil python3-onnx python3-pytest flake8 chromium"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
# onnxruntime-node's install script would fetch CUDA files from outside the registry; its
# bundled CPU build is all the local stack needs (package.json denies the script too).
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

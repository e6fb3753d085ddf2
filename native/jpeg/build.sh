#!/usr/bin/env bash
# Builds src/vision/jpeg/libjpeg.wasm: libjpeg-turbo 2.1.5 (Debian bookworm's source package) and
# decode.c for wasm32 with clang + wasi-libc. The .wasm is committed; rerun only to change it.
#   apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
#   (a deb-src line for bookworm)  apt-get source --download-only libjpeg-turbo=1:2.1.5-2
#   native/jpeg/build.sh /path/to/libjpeg-turbo_2.1.5.orig.tar.gz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:?path to libjpeg-turbo_2.1.5.orig.tar.gz}
echo "254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c  $tarball" | sha256sum -c -
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$tarball" -C "$work"
src="$work/libjpeg-turbo-2.1.5"
cp "$here/jconfig.h" "$here/jconfigint.h" "$src/"
sed "s/@COPYRIGHT_YEAR@/2023/" "$src/jversion.h.in" >"$src/jversion.h"
# The decompressor only (no arithmetic coding, no quantisation to palettes, no SIMD).
files="jcomapi jdapimin jdapistd jdatasrc jdcoefct jdcolor jddctmgr jdhuff jdinput jdmainct
  jdmarker jdmaster jdmerge jdphuff jdpostct jdsample jerror jidctflt jidctfst jidctint jidctred
  jquant1 jquant2 jutils jmemmgr jmemnobs jsimd_none"
sources=$(for f in $files; do echo "$src/$f.c"; done)
# 56 MiB of linear memory at most (896 pages of 64 KiB): the hard ceiling of one decode.
clang --target=wasm32-wasi --sysroot=/usr -O3 -DNO_GETENV -DNO_PUTENV -I"$src" \
  -mexec-model=reactor -nostartfiles -Wl,--no-entry -Wl,--strip-all \
  -Wl,--initial-memory=1048576 -Wl,--max-memory=58720256 -Wl,-z,stack-size=262144 \
  -o "$here/../../src/vision/jpeg/libjpeg.wasm" "$here/decode.c" $sources
ls -l "$here/../../src/vision/jpeg/libjpeg.wasm"

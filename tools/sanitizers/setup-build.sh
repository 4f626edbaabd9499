#!/usr/bin/env bash
# Configures (once) the clang build that tools/sanitize.sh and tools/fuzz-smoke.sh share:
# AddressSanitizer and UndefinedBehaviorSanitizer on every target, the unit tests and the
# libFuzzer targets of tests/fuzz, no benchmarks.
#
# Usage: tools/sanitizers/setup-build.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."

build=$1
if [ -f "$build/build.ninja" ]; then
  exit 0
fi
compiler_prefix=""
if command -v ccache >/dev/null; then
  compiler_prefix="ccache "
fi
# -O1 keeps the build short and the stack traces exact; -g names the lines in them.
CC="${compiler_prefix}clang" CXX="${compiler_prefix}clang++" \
  meson setup "$build" -Dfuzz=true -Dbenchmarks=false -Db_sanitize=address,undefined \
  -Db_lundef=false -Doptimization=1 -Ddebug=true

#!/usr/bin/env bash
# Builds the unit tests with clang, AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ (or $SANITIZE_BUILD_DIR) and runs the unit suite under them, with leak
# checking on and undefined behaviour fatal. The integration tests and the benchmarks are
# not built here; tools/fuzz-smoke.sh reuses the same build for the fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SANITIZE_BUILD_DIR:-build-asan}
tools/sanitizers/setup-build.sh "$build"
# Only the executables of the unit suite, not everything the build defines.
mapfile -t unit_tests < <(meson introspect --tests "$build" | python3 -c '
import json, os, sys
for test in json.load(sys.stdin):
    if any(suite.endswith(":unit") or suite == "unit" for suite in test["suite"]):
        print(os.path.relpath(test["cmd"][0], sys.argv[1]))
' "$build")
if [ ${#unit_tests[@]} -eq 0 ]; then
  echo "sanitize: no tests of the unit suite found in $build" >&2
  exit 1
fi
ninja -C "$build" -j "$(nproc)" "${unit_tests[@]}"

source tools/sanitizers/environment.sh
meson test -C "$build" --no-rebuild --suite unit --print-errorlogs --num-processes "$(nproc)"

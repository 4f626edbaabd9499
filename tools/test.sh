#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit and integration),
# then the sanitizer suite and the fuzz smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh
status=0
meson test -C build --print-errorlogs --num-processes "$(nproc)" || status=$?
python3 tools/test-summary.py build/meson-logs/testlog.json
# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer, then a short
# run of every fuzz target, both in one clang build (build-asan/).
tools/sanitize.sh || status=$?
tools/fuzz-smoke.sh || status=$?
exit "$status"

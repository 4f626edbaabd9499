#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh
status=0
meson test -C build --print-errorlogs --num-processes "$(nproc)" || status=$?
python3 tools/test-summary.py build/meson-logs/testlog.json
exit "$status"

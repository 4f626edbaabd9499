#!/usr/bin/env bash
# Configures (once) and builds the release build in build/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build

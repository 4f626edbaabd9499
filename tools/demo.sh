#!/usr/bin/env bash
# Installs what is missing, builds, and replays a bundled real capture against a bundled
# real MISP event, printing the alerts and the statistics.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh

alerts=${ALERTS:-build/demo-alerts.ndjson}
rm -f "$alerts"
set -x
build/sensor/sensor replay \
  --pcap tests/data/pcap/dns-a-aaaa-mx.pcap \
  --misp tests/data/misp/events/misp-stixtest-all-types.json \
  --alerts "$alerts" \
  --stats-json build/demo-stats.json

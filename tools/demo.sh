#!/usr/bin/env bash
# Installs what is missing, builds, and replays a bundled mix of real captures against
# real and crafted MISP events, with the MaxMind test databases for GeoIP and ASN. Prints
# the alerts (an address, a name and a payload pattern) and the statistics.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh

alerts=${ALERTS:-build/demo-alerts.ndjson}
rm -f "$alerts"
set -x
build/sensor/sensor replay \
  --pcap tests/data/pcap/demo-mix.pcap \
  --misp tests/data/misp/events/misp-stixtest-all-types.json \
  --misp tests/data/misp/crafted/dvwa-patterns.json \
  --misp tests/data/misp/crafted/dns-v6-asn.json \
  --geoip-city tests/data/mmdb/GeoIP2-City-Test.mmdb \
  --geoip-asn tests/data/mmdb/GeoLite2-ASN-Test.mmdb \
  --print-alerts 40 \
  --alerts "$alerts" \
  --stats-json build/demo-stats.json

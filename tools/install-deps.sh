#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing the sensor need.
# Run as root. Packages already present are left as they are.
set -euo pipefail

packages=(
  # Toolchain.
  g++ meson ninja-build pkg-config python3
  # Libraries the sensor links.
  libdpdk-dev libhyperscan-dev libmaxminddb-dev libsimdjson-dev libfmt-dev libabsl-dev
  libcurl4-openssl-dev libssl-dev libpcap-dev rapidjson-dev libcli11-dev libidn2-dev zlib1g-dev
  libmicrohttpd-dev
  libyaml-cpp-dev libcap-ng-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Sanitizer suite and fuzz targets: clang with its sanitizer runtimes and libFuzzer,
  # llvm-symbolizer for the traces.
  clang libclang-rt-14-dev libfuzzer-14-dev llvm
  # IPFIX collectors and decoder that the flow export test checks the messages with.
  tshark nfdump pmacct
  # Tools that perf/side_by_side.sh compares the replay with, and the packet library that
  # perf/es_bulk_throughput.py writes its capture with.
  softflowd tcpdump python3-scapy
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: these packages are missing and installing them needs root:" >&2
  echo "  ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common (pulled in by tshark) asks whether non-root users may capture packets;
# answer no in advance so that the install never waits for input.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in the sanitizer build (build-asan/, or
# $SANITIZE_BUILD_DIR) and runs each one briefly on seeds made from tests/data: a check
# that the targets build, start and survive mutated real input, not a fuzzing campaign.
# Seconds per target: $FUZZ_SMOKE_SECONDS (default 10). Fails on the first crash, leak,
# timeout or undefined behaviour, and leaves the input in $build/fuzz-smoke/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SANITIZE_BUILD_DIR:-build-asan}
seconds=${FUZZ_SMOKE_SECONDS:-10}
tools/sanitizers/setup-build.sh "$build"

# Target, dictionary in tests/fuzz/dictionaries, largest input in bytes.
targets=(
  "fuzz_packet_decode packet 4096"
  "fuzz_dns dns 4096"
  "fuzz_tls_client_hello tls 4096"
  "fuzz_handshake_reassembly tls 8192"
  "fuzz_http_request http 4096"
  "fuzz_quic_initial tls 6000"
  "fuzz_misp_event misp 4096"
  "fuzz_feed_manifest misp 2048"
  "fuzz_rest_search misp 4096"
  "fuzz_warninglist warninglist 1024"
  "fuzz_config config 1024"
  "fuzz_ctl_request ctl 2048"
)
executables=()
for spec in "${targets[@]}"; do
  read -r target _ _ <<<"$spec"
  executables+=("tests/fuzz/$target")
done
ninja -C "$build" -j "$(nproc)" "${executables[@]}"

work=$build/fuzz-smoke
rm -rf "$work"
mkdir -p "$work/artifacts"
python3 tests/fuzz/make_seeds.py "$work/seeds" >/dev/null
source tools/sanitizers/environment.sh

status=0
for spec in "${targets[@]}"; do
  read -r target dictionary max_len <<<"$spec"
  mkdir -p "$work/corpus/$target" "$work/seeds/$target"
  log=$work/$target.log
  # New inputs go to corpus/; the seeds stay as make_seeds.py wrote them.
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len="$max_len" \
      -dict="tests/fuzz/dictionaries/$dictionary.dict" -timeout=25 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" \
      "$work/corpus/$target" "$work/seeds/$target" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz-smoke: $target ok, ${runs:-?} runs, ${coverage:-cov: ?}"
  else
    echo "fuzz-smoke: $target FAILED; the log is $log:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -20 >&2 || true
    status=1
  fi
done
exit "$status"

#!/usr/bin/env bash
# Replays one real capture, looped to about a million packets, through the sensor and
# through the tools it is usually compared with, and prints packets per second for each
# and the ratios between them:
#
#   bare_loop      perf/bare_pcap_loop: net_pcap receive and free only, the ceiling of
#                  any replay through that device
#   sensor_flows   sensor replay with IPFIX flow export only (no indicators)
#   sensor_full    sensor replay with 1M address and 1M domain indicators plus MISP's STIX
#                  test event, and flow export
#   softflowd      softflowd -r FILE exporting IPFIX
#   pmacctd        pmacctd -I FILE with its nfprobe plugin exporting IPFIX
#   tcpdump        tcpdump -r FILE -w /dev/null
#
# Every collector is a UDP sink on 127.0.0.1 at a port the kernel picks. Each run is
# repeated (--runs, default 3) and the median is printed, with the load average before
# and after each tool's runs. The sensor figures are its own packets_per_second, which
# counts replay time after the intelligence is loaded. The others are wall time around
# the process, whose start-up is small next to a million packets.
#
# Usage: perf/side_by_side.sh [--build DIR] [--pcap FILE] [--packets N]
#                             [--indicators N] [--runs N] [--keep]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
pcap="$root/tests/data/pcap/demo-mix.pcap"
packets=1000000
indicators=1000000
runs=3
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --pcap) pcap=$2; shift 2 ;;
    --packets) packets=$2; shift 2 ;;
    --indicators) indicators=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "side_by_side: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

sensor="$build/sensor/sensor"
bare="$build/perf/bare_pcap_loop"
for tool in "$sensor" "$bare"; do
  if [ ! -x "$tool" ]; then
    echo "side_by_side: $tool is missing; build it with ninja -C $build" >&2
    exit 1
  fi
done
for tool in mergecap editcap capinfos softflowd pmacctd tcpdump python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "side_by_side: $tool is not installed (tools/install-deps.sh installs it)" >&2
    exit 1
  fi
done

work=$(mktemp -d /tmp/side-by-side.XXXXXX)
sink_pid=""
cleanup() {
  if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || true; fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "side_by_side: files kept in $work"; fi
}
trap cleanup EXIT

# The capture is doubled with mergecap until it has at least --packets packets and cut to
# exactly that many with editcap. Then editcap -S moves each packet that would go back in
# time to 1 µs after the one before it, so packet time never goes backwards.
cp "$pcap" "$work/loop.pcap"
have=$(capinfos -M -c -T -r "$work/loop.pcap" | cut -f2)
if [ "$have" -eq 0 ]; then
  echo "side_by_side: $pcap has no packets" >&2
  exit 1
fi
while [ "$have" -lt "$packets" ]; do
  mergecap -F pcap -a -w "$work/double.pcap" "$work/loop.pcap" "$work/loop.pcap"
  mv "$work/double.pcap" "$work/loop.pcap"
  have=$((have * 2))
done
editcap -F pcap -r "$work/loop.pcap" "$work/cut.pcap" "1-$packets"
editcap -F pcap -S 0.000001 "$work/cut.pcap" "$work/input.pcap" >/dev/null
rm -f "$work/loop.pcap" "$work/cut.pcap"
file="$work/input.pcap"
count=$(capinfos -M -c -T -r "$file" | cut -f2)
# Every tool then reads the file from the page cache.
cat "$file" >/dev/null

# Intelligence: the flow-only runs get an event without attributes. Full matching gets one
# event with random ip-dst and domain attributes, plus MISP's STIX test event, which lists
# addresses and names that the capture contains.
python3 - "$work" "$indicators" <<'EOF'
import json, random, sys, uuid
work, count = sys.argv[1], int(sys.argv[2])
def event(info, attributes):
    return {"Event": {"uuid": str(uuid.UUID(int=random.getrandbits(128))), "info": info,
                      "date": "2024-01-01", "threat_level_id": "3", "Attribute": attributes}}
random.seed(7)
with open(f"{work}/empty.json", "w") as out:
    json.dump(event("no attributes", []), out)
letters = "abcdefghijklmnopqrstuvwxyz"
tlds = ["com", "net", "org", "info", "ru", "cn", "io", "xyz", "top", "de"]
attributes = []
for i in range(count):
    value = ".".join(str(random.randrange(1, 224)) for _ in range(4))
    attributes.append({"uuid": str(uuid.UUID(int=2 * i + 1)), "type": "ip-dst",
                       "category": "Network activity", "to_ids": True, "value": value})
    name = "".join(random.choice(letters) for _ in range(random.randrange(5, 15)))
    attributes.append({"uuid": str(uuid.UUID(int=2 * i + 2)), "type": "domain",
                       "category": "Network activity", "to_ids": True,
                       "value": f"{name}.{random.choice(tlds)}"})
with open(f"{work}/indicators.json", "w") as out:
    json.dump(event("random indicators", attributes), out)
EOF
stix="$root/tests/data/misp/events/misp-stixtest-all-types.json"

# A UDP sink on 127.0.0.1 for the flow exports. It writes its port to a file.
python3 - "$work/sink.port" <<'EOF' &
import socket, sys
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(str(sink.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    sink.recv(65535)
EOF
sink_pid=$!
for _ in $(seq 50); do
  [ -s "$work/sink.port" ] && break
  sleep 0.1
done
port=$(cat "$work/sink.port")

load() { cut -d' ' -f1 /proc/loadavg; }

# Seconds of wall time and of CPU time (user plus system, children included) of a
# command, as "WALL CPU", with its output in $work/last.log.
timed() {
  python3 - "$work/last.log" "$@" <<'EOF'
import resource, subprocess, sys, time
with open(sys.argv[1], "w") as log:
    start = time.perf_counter()
    subprocess.run(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_utime + usage.ru_stime)
EOF
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A rate
declare -A loads
measure() {
  local name=$1
  shift
  local values=() before after value
  before=$(load)
  for run in $(seq "$runs"); do
    value=$("$@")
    values+=("$value")
  done
  after=$(load)
  rate[$name]=$(median "${values[@]}")
  loads[$name]="$before/$after"
  printf '%-13s %12.0f packets/s  (runs: %s; load before/after %s)\n' "$name" "${rate[$name]}" \
    "$(printf '%.0f ' "${values[@]}")" "${loads[$name]}"
}

run_bare() {
  "$bare" "$file" 2>"$work/bare.log" | sed -n 's/.*packets_per_second=\([0-9.]*\).*/\1/p'
}

run_sensor() {
  local stats="$work/stats.json"
  rm -f "$stats" "$work/alerts.ndjson"
  "$sensor" replay --pcap "$file" --alerts "$work/alerts.ndjson" --print-alerts 0 \
    --ipfix "udp://127.0.0.1:$port" --stats-json "$stats" --log-level warn "$@" \
    >"$work/sensor.log" 2>&1
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['packets_per_second'])" \
    "$stats"
}

run_softflowd() {
  local seconds
  seconds=$(timed softflowd -d -r "$file" -n "127.0.0.1:$port" -v 10 -6 \
    -p "$work/softflowd.pid" -c none | cut -d' ' -f1)
  python3 -c "print($count / $seconds)"
}

# pmacctd spends about 7 s idle at the end of a file while its plugin shuts down, so that
# wait dominates `pmacctd_wall`. The `pmacctd` figure counts CPU time (core process and
# plugin) instead, which is what pmacctd needs per packet.
write_pmacctd_conf() {
  cat >"$work/pmacctd.conf" <<EOF
daemonize: false
pcap_savefile: $file
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$port
nfprobe_version: 10
aggregate: src_host, dst_host, src_port, dst_port, proto
EOF
}

run_pmacctd() {
  local seconds
  write_pmacctd_conf
  seconds=$(timed pmacctd -f "$work/pmacctd.conf" | cut -d' ' -f2)
  python3 -c "print($count / $seconds)"
}

run_pmacctd_wall() {
  local seconds
  write_pmacctd_conf
  seconds=$(timed pmacctd -f "$work/pmacctd.conf" | cut -d' ' -f1)
  python3 -c "print($count / $seconds)"
}

run_tcpdump() {
  local seconds
  seconds=$(timed tcpdump -r "$file" -w /dev/null | cut -d' ' -f1)
  python3 -c "print($count / $seconds)"
}

echo "capture: $(basename "$pcap") looped to $count packets ($(du -h "$file" | cut -f1));" \
  "collector 127.0.0.1:$port; $runs runs each, median"
measure bare_loop run_bare
measure sensor_flows run_sensor --misp "$work/empty.json"
measure sensor_full run_sensor --misp "$work/indicators.json" --misp "$stix"
measure softflowd run_softflowd
measure pmacctd run_pmacctd
measure pmacctd_wall run_pmacctd_wall
measure tcpdump run_tcpdump

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "sensor_full / bare_loop:   $(ratio "${rate[sensor_full]}" "${rate[bare_loop]}")"
echo "sensor_flows / bare_loop:  $(ratio "${rate[sensor_flows]}" "${rate[bare_loop]}")"
echo "sensor_full / softflowd:   $(ratio "${rate[sensor_full]}" "${rate[softflowd]}")"
echo "sensor_flows / softflowd:  $(ratio "${rate[sensor_flows]}" "${rate[softflowd]}")"
echo "sensor_full / pmacctd:     $(ratio "${rate[sensor_full]}" "${rate[pmacctd]}")"
echo "sensor_flows / pmacctd:    $(ratio "${rate[sensor_flows]}" "${rate[pmacctd]}")"

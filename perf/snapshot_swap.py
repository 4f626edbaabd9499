#!/usr/bin/env python3
"""Swap a large indicator snapshot in and out while the sensor replays in a loop.

Generates a MISP feed directory of synthetic indicators: IPv4 and IPv6 addresses and
CIDRs from the benchmarking and documentation ranges 198.18.0.0/15 and 2001:db8::/32,
and domains and host names below .example. Then starts `sensor replay --loop 0` on a
real capture with `--misp` pointing at a symbolic link. `--swaps` times, it points the
link at the large feed, requests a reload over the control socket and waits for the new
snapshot, then points it back at the small real feed (tests/data/misp/feed) and reloads
again. Prints the packets lost over the run (every packet read must be processed and no
drop counted), the build time of each snapshot as the sensor reports it
(`reloads.last_build_seconds`), the process's resident memory with each snapshot, and
the replay rate. Exits 1 if a packet was lost or a reload failed.

    perf/snapshot_swap.py --sensor build/sensor/sensor --sensorctl build/tools/sensorctl
    perf/snapshot_swap.py --indicators 20000 --swaps 1     # short mode, about 10 s
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.environ.get("SENSOR_TEST_DATA", os.path.join(ROOT, "tests", "data"))
ATTRIBUTES_PER_EVENT = 10_000
V4_CIDR_LENGTHS = (30, 29, 28, 27, 26, 31)  # Inside 198.18.0.0/15: 129,024 blocks.


def v4_address(n):
    if n >= 1 << 17:
        raise ValueError("198.18.0.0/15 contains 131,072 addresses; use fewer indicators")
    value = (198 << 24) | (18 << 16) | n
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def v4_cidr(n):
    for length in V4_CIDR_LENGTHS:
        count = 1 << (length - 15)
        if n < count:
            return f"{v4_address(n << (32 - length))}/{length}"
        n -= count
    raise ValueError("198.18.0.0/15 contains 129,024 blocks of /26 to /31; use fewer indicators")


def indicator(i):
    """Return the MISP type and value of synthetic indicator `i`. Of every 16, 2 are IPv4
    addresses, 1 an IPv4 CIDR, 4 IPv6 addresses, 1 an IPv6 /64, 4 domains and 4 host
    names."""
    slot, n = i % 16, i // 16
    if slot < 2:
        return "ip-dst", v4_address(2 * n + slot)
    if slot == 2:
        return "ip-dst", v4_cidr(n)
    if slot < 7:
        m = 4 * n + slot - 3
        return "ip-dst", f"2001:db8::{m >> 16:x}:{m & 0xFFFF:x}"
    if slot == 7:
        return "ip-src", f"2001:db8:{1 + (n >> 16):x}:{n & 0xFFFF:x}::/64"
    m = 8 * n + slot - 8
    if slot < 12:
        return "domain", f"d{m}.z{m % 997}.example"
    return "hostname", f"h{m}.z{m % 991}.example"


def write_feed(directory, count):
    """Write a MISP feed (manifest.json and one <uuid>.json per event) of `count`
    attributes, ATTRIBUTES_PER_EVENT per event."""
    os.makedirs(directory, exist_ok=True)
    stamp = str(int(time.time()))
    manifest = {}
    for event_number, first in enumerate(range(0, count, ATTRIBUTES_PER_EVENT)):
        event_uuid = f"5e1f0000-0000-4000-8000-{event_number:012x}"
        info = f"Synthetic indicators {first} to {min(first + ATTRIBUTES_PER_EVENT, count) - 1}"
        tags = [{"name": "tlp:green"}]
        manifest[event_uuid] = {"Orgc": {"name": "Benchmark"}, "Tag": tags, "info": info,
                                "date": "2026-01-01", "analysis": 2, "threat_level_id": 3,
                                "timestamp": int(stamp)}
        parts = []
        for i in range(first, min(first + ATTRIBUTES_PER_EVENT, count)):
            kind, value = indicator(i)
            parts.append(
                '{"uuid":"5e1f0001-0000-4000-8000-%012x","type":"%s",'
                '"category":"Network activity","value":"%s","to_ids":true,'
                '"timestamp":"%s"}' % (i, kind, value, stamp))
        head = json.dumps({"uuid": event_uuid, "info": info, "date": "2026-01-01",
                           "threat_level_id": "3", "analysis": "2", "published": True,
                           "timestamp": stamp, "Orgc": {"name": "Benchmark"}, "Tag": tags})
        with open(os.path.join(directory, event_uuid + ".json"), "w", encoding="utf-8") as f:
            f.write('{"Event":' + head[:-1] + ',"Attribute":[' + ",".join(parts) + "]}}")
    with open(os.path.join(directory, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f)


def directory_bytes(directory):
    return sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))


def point_link(link, target):
    temporary = link + ".new"
    os.symlink(target, temporary)
    os.replace(temporary, link)


def resident_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Sensor:
    def __init__(self, arguments, work, link):
        self.sensorctl = arguments.sensorctl
        self.socket = os.path.join(work, "ctl.sock")
        self.last_ctl_error = ""
        self.stats_path = os.path.join(work, "stats.json")
        self.log = open(os.path.join(work, "sensor.log"), "w+", encoding="utf-8")
        command = [arguments.sensor, "replay", "--pcap", arguments.capture, "--loop", "0",
                   "--misp", link, "--alerts", os.path.join(work, "alerts.ndjson"),
                   "--stats-json", self.stats_path, "--ctl-socket", self.socket,
                   "--workers", str(arguments.workers), "--print-alerts", "0"]
        if arguments.speed > 0:
            command += ["--speed", str(arguments.speed)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)

    def ctl(self, *command, attempts=1):
        """Run a sensorctl command and return its result, or None if every attempt
        failed (the socket may not exist yet, or the sensor may be too busy to reply)."""
        for attempt in range(attempts):
            if attempt > 0:
                time.sleep(0.5)
            result = subprocess.run(
                [self.sensorctl, "--socket", self.socket, "--json", *command],
                capture_output=True, text=True, timeout=60, check=False)
            if result.returncode == 0:
                return json.loads(result.stdout)["result"]
            self.last_ctl_error = result.stderr.strip()
        return None

    def stats(self):
        stats = self.ctl("stats", attempts=10)
        if stats is None:
            raise SystemExit("sensorctl stats failed 10 times: " + self.last_ctl_error)
        return stats

    def wait(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"sensor exited while waiting for {what}:\n{self.log.read()}")
            if os.path.exists(self.socket):
                stats = self.ctl("stats")
                if stats is not None and condition(stats):
                    return stats
            time.sleep(0.2)
        raise SystemExit(f"timed out after {timeout} s waiting for {what}")

    def reload(self, expected_published, timeout):
        """Request a reload and wait until `expected_published` reloads have published
        or one has failed. Return the statistics then and the seconds it took."""
        start = time.monotonic()
        if self.ctl("reload", attempts=10) is None:
            raise SystemExit("sensorctl reload failed 10 times: " + self.last_ctl_error)
        stats = self.wait(lambda s: s["reloads"]["published"] >= expected_published
                          or s["reloads"]["failed"] > 0, timeout, "the reload to publish")
        if stats["reloads"]["failed"] > 0:
            raise SystemExit("reload failed: " + stats["reloads"]["last_error"])
        return stats, time.monotonic() - start

    def kill(self):
        """Stop the sensor if it still runs: SIGTERM first, so that it removes its DPDK
        runtime directory, then SIGKILL after 30 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        returncode = self.process.wait(timeout=300)
        with open(self.stats_path, encoding="utf-8") as f:
            return returncode, json.load(f)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensor", default=os.path.join(ROOT, "build", "sensor", "sensor"))
    parser.add_argument("--sensorctl", default=os.path.join(ROOT, "build", "tools", "sensorctl"))
    parser.add_argument("--capture", default=os.path.join(DATA, "pcap", "vxlan-dns-ssh.pcap"),
                        help="capture replayed in a loop")
    parser.add_argument("--small-feed", default=os.path.join(DATA, "misp", "feed"),
                        help="feed running before and between the large snapshots")
    parser.add_argument("--indicators", type=int, default=1_000_000,
                        help="synthetic indicators in the large feed")
    parser.add_argument("--swaps", type=int, default=3,
                        help="times the large snapshot is swapped in (and out again)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--speed", type=float, default=0,
                        help="replay pacing (0: as fast as possible)")
    parser.add_argument("--dwell", type=float, default=2.0,
                        help="seconds of replay after each swap before the next")
    parser.add_argument("--reload-timeout", type=float, default=600)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    if arguments.indicators > 16 * 65_536:
        raise SystemExit("--indicators: at most 1,048,576 fit the ranges used")
    work = tempfile.mkdtemp(prefix="snapshot-swap-")
    try:
        return run(arguments, work)
    finally:
        if arguments.keep:
            print(f"work directory  {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(arguments, work):
    large = os.path.join(work, "large-feed")
    start = time.monotonic()
    write_feed(large, arguments.indicators)
    generate_seconds = time.monotonic() - start
    link = os.path.join(work, "misp")
    point_link(link, os.path.abspath(arguments.small_feed))

    sensor = Sensor(arguments, work, link)
    try:
        return measure(arguments, sensor, large, link, generate_seconds)
    finally:
        sensor.kill()


def measure(arguments, sensor, large, link, generate_seconds):
    stats = sensor.wait(lambda s: s["packets"] > 0, 120, "the replay to start")
    small_rss = [resident_kib(sensor.process.pid)]
    large_rss, large_build, small_build, publish_wall = [], [], [], []
    rates = []
    published = 0
    for _ in range(arguments.swaps):
        for target in (large, os.path.abspath(arguments.small_feed)):
            point_link(link, target)
            published += 1
            before = sensor.stats()
            stats, wall = sensor.reload(published, arguments.reload_timeout)
            publish_wall.append(wall)
            time.sleep(arguments.dwell)
            after = sensor.stats()
            rates.append((after["packets"] - before["packets"]) /
                         max(after["uptime_seconds"] - before["uptime_seconds"], 1e-9))
            build = stats["reloads"]["last_build_seconds"]
            if target == large:
                large_build.append(build)
                large_rss.append(resident_kib(sensor.process.pid))
            else:
                small_build.append(build)
                small_rss.append(resident_kib(sensor.process.pid))
    peak_kib = resident_kib(sensor.process.pid, "VmHWM")
    returncode, final = sensor.stop()

    taken = final["capture"]["packets_taken"]
    processed = final["packets"]
    drops = {name: final["drops"][name] for name in
             ("alert_ring_full", "flow_record_ring_full", "imissed", "ierrors", "rx_nombuf")}
    lost = taken - processed + sum(drops.values())
    indicators_large = arguments.indicators
    print(f"capture          {arguments.capture}")
    print(f"large feed       {indicators_large} indicators in "
          f"{-(-indicators_large // ATTRIBUTES_PER_EVENT)} events, "
          f"{directory_bytes(large) / 2**20:.0f} MiB, generated in {generate_seconds:.1f} s")
    print(f"swaps            {arguments.swaps} to the large snapshot and back, "
          f"{final['reloads']['published']} published, {final['reloads']['failed']} failed")
    print("build seconds    large: " + " ".join(f"{s:.2f}" for s in large_build)
          + f" (median {statistics.median(large_build):.2f}); small: "
          + " ".join(f"{s:.3f}" for s in small_build))
    print("reload to swap   " + " ".join(f"{s:.2f}" for s in publish_wall)
          + " s (request to published, as sensorctl sees it)")
    print(f"resident memory  small snapshot {small_rss[0] / 1024:.0f} MiB, large "
          + " ".join(f"{k / 1024:.0f}" for k in large_rss)
          + f" MiB, back to small {small_rss[-1] / 1024:.0f} MiB, peak {peak_kib / 1024:.0f} MiB")
    print(f"replay           {processed} packets in {final['seconds']:.1f} s over "
          f"{final['capture']['passes']} passes: {final['packets_per_second']:.0f} packets/s; "
          f"after each swap " + " ".join(f"{r:.0f}" for r in rates))
    print(f"packets lost     {lost} (read {taken}, processed {processed}, drops "
          + ", ".join(f"{k}={v}" for k, v in drops.items()) + ")")
    print(f"exit status      {returncode}")
    return 0 if lost == 0 and returncode == 0 and final["reloads"]["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Alerts per second that the Elasticsearch sink delivers to the _bulk double.

Writes a capture of N one-packet UDP flows to addresses in 198.51.100.0/24 (scapy), an
event that lists that /24 as ip-dst, replays the capture with --elasticsearch pointing
at tools/doubles/es_double.py on 127.0.0.1, and reports the alerts the double stored and
the wall time from start to the end of the drain.

Usage: perf/es_bulk_throughput.py [FLOWS] (default 20000); needs python3-scapy and a
built sensor (SENSOR_BIN, default build/sensor/sensor).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

from scapy.all import IP, UDP, Ether, Raw
from scapy.utils import PcapWriter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SENSOR = os.environ.get("SENSOR_BIN", os.path.join(ROOT, "build", "sensor", "sensor"))
DOUBLE = os.path.join(ROOT, "tools", "doubles", "es_double.py")
API_KEY = "benchmark-key"


def write_capture(path, flows):
    writer = PcapWriter(path, linktype=1, sync=False)
    for i in range(flows):
        packet = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                  / IP(src=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                       dst=f"198.51.100.{i % 254 + 1}")
                  / UDP(sport=1024 + i % 60000, dport=53) / Raw(b"x" * 32))
        packet.time = 1704067200 + i / 1000
        writer.write(packet)
    writer.close()


def write_event(path):
    event = {"Event": {"uuid": "0f2d1c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b", "info": "benchmark",
                       "Tag": [{"name": "tlp:green"}],
                       "Attribute": [{"uuid": "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
                                      "type": "ip-dst", "category": "Network activity",
                                      "value": "198.51.100.0/24", "to_ids": True}]}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(event, f)


def main():
    flows = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as work:
        capture = os.path.join(work, "flows.pcap")
        event = os.path.join(work, "event.json")
        key_file = os.path.join(work, "es.key")
        write_capture(capture, flows)
        write_event(event)
        with open(key_file, "w", encoding="utf-8") as f:
            f.write(API_KEY + "\n")
        os.chmod(key_file, 0o600)
        double = subprocess.Popen([sys.executable, DOUBLE, "--api-key", API_KEY],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = re.search(r"http://127\.0\.0\.1:\d+", double.stdout.readline()).group(0)
            start = time.monotonic()
            result = subprocess.run(
                [SENSOR, "replay", "--pcap", capture, "--misp", event, "--print-alerts", "0",
                 "--alerts", os.path.join(work, "alerts.ndjson"), "--elasticsearch", url,
                 "--elasticsearch-key-file", key_file, "--elasticsearch-drain-timeout", "600"],
                capture_output=True, text=True, check=False)
            seconds = time.monotonic() - start
            with urllib.request.urlopen(url + "/_double/stats", timeout=10) as response:
                stats = json.load(response)
        finally:
            double.terminate()
            double.wait(timeout=10)
    if result.returncode != 0:
        sys.exit(f"sensor failed ({result.returncode}): {result.stderr.strip()}")
    stored = stats["created"] + stats["conflicts"]
    print(f"flows {flows}  alerts stored {stored}  seconds {seconds:.2f}  "
          f"alerts/s {flows / seconds:.0f}")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()

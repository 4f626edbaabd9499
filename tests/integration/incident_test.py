#!/usr/bin/env python3
"""A mock incident: MISP publishes a new event while the sensor replays traffic in a loop.

The MISP double (tools/doubles/misp_double.py) serves the real data of tests/data/misp
through /attributes/restSearch. The sensor replays http-get-bro.org.pcap over and over
(`--loop 0`) at recorded speed and polls the double every RELOAD_INTERVAL seconds. Once
replay is under way, the double publishes an event that did not exist at start: TLP
amber, with the HTTP server's address as `ip-dst`. The address comes from tshark's
reading of the capture (`tshark -r http-get-bro.org.pcap -Y http.request -T fields
-e ip.dst` prints 192.150.187.43), and no event in tests/data/misp/events or feed lists
it. The test expects alerts for the new event from the same process, within one poll
interval plus the time of one pass over the capture. After SIGTERM it expects exit
status 0, every packet that was read processed, and no drop counted.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
SENSORCTL = os.environ.get("SENSORCTL_BIN", "build/tools/sensorctl")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
DOUBLE = os.environ.get("MISP_DOUBLE", os.path.join(os.path.dirname(__file__), "..", "..",
                                                    "tools", "doubles", "misp_double.py"))
CAPTURE = os.path.join(DATA, "pcap", "http-get-bro.org.pcap")
KEY = "Qm3vT8xLp2WcR7nHs5yBk9dFg4jZa6eUo1iEt0wN"

RELOAD_INTERVAL = 2.0  # Seconds between polls of the MISP double.
SPEED = 1.0
# Time for a loaded two-core machine to fetch, compile, publish and flush (the NDJSON
# file is written once a second), beyond the poll interval and one pass.
SLACK = 8.0


def tshark_fields(*arguments):
    result = subprocess.run(["tshark", "-r", CAPTURE, "-T", "fields", *arguments],
                            capture_output=True, text=True, timeout=60, check=True)
    return [line for line in result.stdout.splitlines() if line]


def read_alerts(path):
    if not os.path.exists(path):
        return []
    alerts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.endswith("\n"):
                alerts.append(json.loads(line))
    return alerts


class MispDouble:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, DOUBLE, "--key", KEY, "--data", os.path.join(DATA, "misp")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.process.stdout.readline())
        self.control_port = int(self.process.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, path, body):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}",
            data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()


class MockIncident(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.address = tshark_fields("-Y", "http.request", "-e", "ip.dst")[0]
        times = [float(t) for t in tshark_fields("-e", "frame.time_epoch")]
        cls.capture_packets = len(times)
        cls.capture_last = max(times)
        # The gap between passes exists in packet time only, because pacing skips it.
        cls.pass_seconds = (max(times) - min(times)) / SPEED
        cls.event_uuid = str(uuid.uuid4())
        cls.attribute_uuid = str(uuid.uuid4())
        cls.work = tempfile.mkdtemp(prefix="incident-test-")
        cls.addClassCleanup(shutil.rmtree, cls.work, ignore_errors=True)
        cls.double = MispDouble()
        cls.sensor = None
        try:
            cls.run_incident()
        finally:
            cls.double.stop()
            if cls.sensor is not None and cls.sensor.poll() is None:
                cls.sensor.kill()
                cls.sensor.wait()

    @classmethod
    def ctl_stats(cls):
        result = subprocess.run([SENSORCTL, "--socket", cls.socket, "--json", "stats"],
                                capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)["result"]

    @classmethod
    def wait_for(cls, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if cls.sensor.poll() is not None:
                raise AssertionError(f"sensor exited while waiting for {what}: "
                                     + cls.sensor.stderr.read())
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    @classmethod
    def new_event(cls):
        return {"Event": {
            "id": "9400",
            "uuid": cls.event_uuid,
            "info": "Mock incident: web server contacted by an infected host",
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "threat_level_id": "1",
            "analysis": "1",
            "published": True,
            "Orgc": {"name": "Incident response team"},
            "Tag": [{"name": "tlp:amber"}],
            "Attribute": [{
                "uuid": cls.attribute_uuid,
                "type": "ip-dst",
                "category": "Network activity",
                "value": cls.address,
                "to_ids": True,
                "comment": "Contacted during the incident",
            }],
        }}

    @classmethod
    def run_incident(cls):
        key_file = os.path.join(cls.work, "misp.key")
        with open(key_file, "w", encoding="utf-8") as f:
            f.write(KEY + "\n")
        os.chmod(key_file, 0o600)
        cls.alerts_path = os.path.join(cls.work, "alerts.ndjson")
        cls.stats_path = os.path.join(cls.work, "stats.json")
        cls.socket = os.path.join(cls.work, "ctl.sock")
        cls.sensor = subprocess.Popen(
            [SENSOR, "replay", "--pcap", CAPTURE, "--loop", "0", "--speed", str(SPEED),
             "--misp-rest", cls.double.url, "--misp-key-file", key_file,
             "--misp-retries", "1", "--misp-timeout", "10",
             "--reload-interval", str(RELOAD_INTERVAL), "--alerts", cls.alerts_path,
             "--stats-json", cls.stats_path, "--ctl-socket", cls.socket],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cls.work)
        cls.pid = cls.sensor.pid

        # Two passes and a poll of MISP before the event exists.
        cls.before = cls.wait_for(
            lambda: (os.path.exists(cls.socket) and (stats := cls.ctl_stats()) is not None
                     and stats["packets"] >= 2 * cls.capture_packets
                     and stats["reloads"]["requested"] >= 1 and stats),
            120, "two passes and a reload")
        cls.alerts_before = read_alerts(cls.alerts_path)

        cls.double.control("/event/add", cls.new_event())
        published = time.monotonic()

        def new_alerts():
            return [a for a in read_alerts(cls.alerts_path)
                    if a["misp"]["attribute"]["uuid"] == cls.attribute_uuid]
        cls.new_alerts = cls.wait_for(new_alerts, 120, "alerts of the new event")
        cls.latency = time.monotonic() - published
        cls.running_after_alert = cls.sensor.poll() is None

        cls.sensor.send_signal(signal.SIGTERM)
        cls.stdout, cls.stderr = cls.sensor.communicate(timeout=120)
        with open(cls.stats_path, encoding="utf-8") as f:
            cls.stats = json.load(f)
        cls.alerts = read_alerts(cls.alerts_path)

    def test_address_not_listed_before(self):
        listed = [a for a in self.alerts_before
                  if self.address in (a["source"]["ip"], a["destination"]["ip"])]
        self.assertEqual(listed, [])

    def test_alert_within_one_poll_interval(self):
        limit = RELOAD_INTERVAL + self.pass_seconds + SLACK
        self.assertLessEqual(self.latency, limit)

    def test_same_process(self):
        self.assertTrue(self.running_after_alert)
        self.assertEqual(self.sensor.pid, self.pid)
        self.assertGreaterEqual(self.stats["reloads"]["published"], 1)
        self.assertEqual(self.stats["reloads"]["failed"], 0)

    def test_alert_carries_new_event(self):
        alert = self.new_alerts[0]
        self.assertEqual(alert["misp"]["event"]["uuid"], self.event_uuid)
        self.assertEqual(alert["misp"]["event"]["id"], "9400")
        self.assertEqual(alert["misp"]["event"]["info"],
                         "Mock incident: web server contacted by an infected host")
        self.assertEqual(alert["misp"]["attribute"]["type"], "ip-dst")
        self.assertEqual(alert["misp"]["attribute"]["value"], self.address)
        self.assertEqual(alert["misp"]["tlp"], "amber")
        self.assertEqual(alert["threat"]["indicator"]["marking"]["tlp"], "AMBER")
        self.assertEqual(alert["destination"]["ip"], self.address)

    def test_alerts_come_from_later_passes(self):
        # Each pass is shifted forward by the capture's span plus a gap, so an alert of a
        # pass after the first is later than anything recorded in the file.
        for alert in self.new_alerts:
            stamp = alert["@timestamp"]
            seconds = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
            self.assertGreater(seconds - time.timezone, self.capture_last, stamp)

    def test_alert_ids_unique(self):
        ids = [a["event"]["id"] for a in self.alerts if "event" in a and "id" in a["event"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_exit_status(self):
        self.assertEqual(self.sensor.returncode, 0, self.stderr)

    def test_several_passes(self):
        self.assertGreaterEqual(self.stats["capture"]["passes"], 3)
        self.assertGreaterEqual(self.stats["packets"], 3 * self.capture_packets)

    def test_no_packet_lost(self):
        stats = self.stats
        self.assertEqual(stats["packets"], stats["capture"]["packets_taken"])
        self.assertGreaterEqual(stats["port"]["ipackets"], stats["packets"])
        for counter in ("alert_ring_full", "flow_record_ring_full", "imissed", "ierrors",
                        "rx_nombuf"):
            self.assertEqual(stats["drops"][counter], 0, counter)
        self.assertEqual(stats["alerts"]["unknown_snapshot"], 0)
        self.assertEqual(stats["alerts"]["sink_errors"], 0)
        self.assertEqual(stats["mbufs_in_use_at_exit"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

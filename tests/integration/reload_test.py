#!/usr/bin/env python3
"""Reloading the intelligence while a replay runs: new indicators take effect without a
restart, a broken source leaves the running indicators in place, and no packet is lost.

dns-a-aaaa-mx.pcap contains three lookups of google.com at 8.8.8.8, recorded at 0 s, 3.2 s and
5.8 s (`tshark -r dns-a-aaaa-mx.pcap -Y 'dns.flags.response==0' -T fields
-e frame.time_relative -e udp.srcport`: 0.000000 55398, 3.223027 45421, 5.783345 54380).
Replayed at half speed, the lookups come at about 0 s, 6.4 s and 11.6 s. The source file
is changed about 3 s after the start, so the first lookup meets the old indicators and
the last one the new.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")
NAMES_EVENT = os.path.join(DATA, "misp", "crafted", "names.json")

FIRST_LOOKUP_PORT = 55398
LAST_LOOKUP_PORT = 54380


def write_bro_only_event(path):
    """names.json reduced to its bro.org domain: nothing in the capture matches it."""
    with open(NAMES_EVENT, encoding="utf-8") as f:
        event = json.load(f)
    event["Event"]["Attribute"] = [a for a in event["Event"]["Attribute"]
                                   if a["value"] == "bro.org"]
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(event, f)
    os.replace(path + ".tmp", path)


def replace_file(path, source):
    shutil.copyfile(source, path + ".tmp")
    os.replace(path + ".tmp", path)


class ReloadRun:
    """Starts a half-speed replay, calls `change(sensor, event_path)` after 3 s, and keeps
    the alerts and statistics."""

    def __init__(self, initial, change, *extra):
        with tempfile.TemporaryDirectory() as work:
            event_path = os.path.join(work, "event.json")
            initial(event_path)
            alerts_path = os.path.join(work, "alerts.ndjson")
            stats_path = os.path.join(work, "stats.json")
            sensor = subprocess.Popen(
                [SENSOR, "replay", "--pcap", CAPTURE, "--misp", event_path, "--speed", "0.5",
                 "--alerts", alerts_path, "--stats-json", stats_path, *extra],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(3)
            change(sensor, event_path)
            self.stdout, self.stderr = sensor.communicate(timeout=120)
            self.returncode = sensor.returncode
            with open(alerts_path, encoding="utf-8") as f:
                self.alerts = [json.loads(line) for line in f]
            with open(stats_path, encoding="utf-8") as f:
                self.stats = json.load(f)

    def alerts_from_port(self, port):
        return [a for a in self.alerts if port in (a["source"]["port"],
                                                    a["destination"]["port"])]


class ReloadTestCase(unittest.TestCase):
    def assertNothingLost(self, run):
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stats["packets"], 6)
        self.assertEqual(run.stats["mbufs_in_use_at_exit"], 0)
        self.assertEqual(run.stats["drops"]["alert_ring_full"], 0)
        self.assertEqual(run.stats["alerts"]["unknown_snapshot"], 0)


class ReloadOnSighup(ReloadTestCase):
    @classmethod
    def setUpClass(cls):
        def change(sensor, path):
            replace_file(path, STIX_EVENT)
            sensor.send_signal(signal.SIGHUP)
        cls.run_result = ReloadRun(write_bro_only_event, change)

    def test_nothing_lost(self):
        self.assertNothingLost(self.run_result)

    def test_old_indicators_before_reload(self):
        self.assertEqual(self.run_result.alerts_from_port(FIRST_LOOKUP_PORT), [])

    def test_new_indicators_after_reload(self):
        alerts = self.run_result.alerts_from_port(LAST_LOOKUP_PORT)
        # misp-stixtest-all-types.json: 8.8.8.8 as ip-dst four times and ip-src once, and
        # google.com as a hostname.
        self.assertEqual(len(alerts), 6)
        self.assertEqual({a["misp"]["event"]["uuid"] for a in alerts},
                         {"5abb8534-ba9c-48cd-bb63-02480a00020f"})
        self.assertEqual({a["misp"]["tlp"] for a in alerts}, {"clear"})

    def test_reload_counted(self):
        reloads = self.run_result.stats["reloads"]
        self.assertEqual(reloads["requested"], 1)
        self.assertEqual(reloads["published"], 1)
        self.assertEqual(reloads["failed"], 0)
        self.assertEqual(self.run_result.stats["indicators"]["loaded"], 22)


class ReloadOnInterval(ReloadTestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_result = ReloadRun(write_bro_only_event,
                                   lambda sensor, path: replace_file(path, STIX_EVENT),
                                   "--reload-interval", "0.5")

    def test_nothing_lost(self):
        self.assertNothingLost(self.run_result)

    def test_new_indicators_after_reload(self):
        self.assertEqual(self.run_result.alerts_from_port(FIRST_LOOKUP_PORT), [])
        self.assertEqual(len(self.run_result.alerts_from_port(LAST_LOOKUP_PORT)), 6)

    def test_unchanged_sources_not_republished(self):
        reloads = self.run_result.stats["reloads"]
        self.assertEqual(reloads["published"], 1)
        self.assertGreater(reloads["unchanged"], 0)


class ReloadOfBrokenSource(ReloadTestCase):
    @classmethod
    def setUpClass(cls):
        def change(sensor, path):
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write('{"Event": {"uuid": "cut off')
            os.replace(path + ".tmp", path)
            sensor.send_signal(signal.SIGHUP)
        cls.run_result = ReloadRun(lambda path: replace_file(path, STIX_EVENT), change)

    def test_nothing_lost(self):
        self.assertNothingLost(self.run_result)

    def test_running_indicators_stay(self):
        self.assertEqual(len(self.run_result.alerts_from_port(FIRST_LOOKUP_PORT)), 6)
        self.assertEqual(len(self.run_result.alerts_from_port(LAST_LOOKUP_PORT)), 6)

    def test_failure_reported(self):
        reloads = self.run_result.stats["reloads"]
        self.assertEqual(reloads["requested"], 1)
        self.assertEqual(reloads["published"], 0)
        self.assertIn("event.json: invalid JSON", self.run_result.stderr)
        self.assertEqual(self.run_result.stats["indicators"]["loaded"], 22)


if __name__ == "__main__":
    unittest.main(verbosity=2)

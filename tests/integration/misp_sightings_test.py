#!/usr/bin/env python3
"""Per-source MISP sync status in stats and metrics, and sightings sent back to MISP.

The MISP double (tools/doubles/misp_double.py) serves the STIX test event through
/attributes/restSearch and stores what arrives at /sightings/add. The attributes that
alert come from the capture and the event file, not from the sensor's output:
`tshark -r dns-a-aaaa-mx.pcap -T fields -e ip.src -e ip.dst -e dns.qry.name` lists three
queries from 10.16.1.11 to 8.8.8.8 for google.com and their responses, so the attributes
that alert are the to_ids ip-src and ip-dst attributes with the value 8.8.8.8 and the
to_ids hostname attribute google.com.
"""

import json
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ctl_test import DNS_CAPTURE, Sensor  # noqa: E402
from misp_sync_test import KEY, STIX_EVENT, MispSyncTestCase  # noqa: E402

# From the tshark fields in the module docstring.
CAPTURE_ADDRESSES = {"10.16.1.11", "8.8.8.8"}
CAPTURE_NAMES = {"google.com"}


def event_attributes(path):
    """Every attribute of the event file, object attributes included."""
    with open(path, encoding="utf-8") as f:
        event = json.load(f)["Event"]
    attributes = list(event.get("Attribute", []))
    for misp_object in event.get("Object", []):
        attributes += misp_object.get("Attribute", [])
    return attributes


def expected_sighted_uuids():
    """The uuids of the to_ids attributes that the capture's traffic matches."""
    uuids = set()
    for attribute in event_attributes(STIX_EVENT):
        if not attribute.get("to_ids"):
            continue
        if attribute["type"] in ("ip-src", "ip-dst") and attribute["value"] in CAPTURE_ADDRESSES:
            uuids.add(attribute["uuid"])
        if attribute["type"] == "hostname" and attribute["value"] in CAPTURE_NAMES:
            uuids.add(attribute["uuid"])
    return uuids


class Sightings(MispSyncTestCase):
    def sightings(self, double):
        with urllib.request.urlopen(f"http://127.0.0.1:{double.control_port}/sightings",
                                    timeout=10) as response:
            return json.load(response)

    def sighting_requests(self, double):
        return [r for r in double.requests() if r["path"] == "/sightings/add"]

    def test_alerted_attributes_are_sighted_once(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-sightings", "--misp-sightings-source", "lab-sensor")
        self.assertEqual(run.returncode, 0, run.stderr)
        expected = expected_sighted_uuids()
        self.assertEqual(len(expected), 6)
        stored = self.sightings(double)
        self.assertEqual(sorted(s["uuid"] for s in stored), sorted(expected))
        for sighting in stored:
            self.assertEqual(sighting["type"], "0")
            self.assertEqual(sighting["source"], "lab-sensor")
        for request in self.sighting_requests(double):
            self.assertTrue(request["authorization_ok"])
            self.assertEqual(request["method"], "POST")
        counts = run.stats["misp_sightings"]
        self.assertEqual(counts["sent"], 6)
        self.assertEqual(counts["failed"], 0)
        # Each attribute alerts once per conversation (3), so the dedup window drops 2 of 3.
        self.assertEqual(counts["dropped_duplicate"], 12)
        self.assertNotIn(KEY, run.all_output())

    def test_dedup_window_zero_sights_every_alert(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-sightings", "--misp-sightings-dedup-window", "0")
        self.assertEqual(run.returncode, 0, run.stderr)
        stored = self.sightings(double)
        self.assertEqual(len(stored), 18)
        self.assertEqual({s["uuid"] for s in stored}, expected_sighted_uuids())

    def test_rate_limit_drops_and_counts(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-sightings", "--misp-sightings-rate", "4")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(len(self.sightings(double)), 4)
        self.assertEqual(run.stats["misp_sightings"]["sent"], 4)
        # Each conversation alerts the same six attributes: the first four are sighted, and
        # the other two hit the limit in each of the three conversations, because a
        # dropped sighting does not start a dedup window.
        self.assertEqual(run.stats["misp_sightings"]["dropped_rate"], 6)
        self.assertEqual(run.stats["misp_sightings"]["dropped_duplicate"], 8)

    def test_file_sources_are_not_sighted(self):
        # The REST source serves the ASERT event plus one ip-dst 8.8.8.8; the file source
        # is the STIX test event, whose alerts must not reach MISP.
        asert = os.path.join(os.path.dirname(STIX_EVENT),
                             "circl-osint-asert-four-element-sword.json")
        double = self.start_double("--events", asert)
        added = "0b7c4e6e-7d1a-4c1e-9a57-2f0e8a4d1c11"
        double.control("/attribute/add", {"event_uuid": "57153590-f73c-49fa-be4b-4737950d210f",
                                          "type": "ip-dst", "value": "8.8.8.8", "uuid": added})
        run = self.rest(double, "--misp", STIX_EVENT, "--misp-sightings")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual([s["uuid"] for s in self.sightings(double)], [added])
        # 18 alerts of the file (see misp_sync_test.py).
        self.assertEqual(run.stats["misp_sightings"]["not_rest_source"], 18)

    def test_retries_through_a_500(self):
        double = self.start_double("--events", STIX_EVENT)
        double.control("/fault", {"mode": "500", "count": 1, "path": "/sightings/add"})
        run = self.rest(double, "--misp-sightings")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(sorted(s["uuid"] for s in self.sightings(double)),
                         sorted(expected_sighted_uuids()))
        # Six sightings, one of them sent twice.
        self.assertEqual(len(self.sighting_requests(double)), 7)
        self.assertEqual(run.stats["misp_sightings"]["sent"], 6)
        self.assertEqual(run.stats["misp_sightings"]["failed"], 0)
        self.assertEqual(run.stats["misp_sightings"]["requests"], 7)

    def test_persistent_500_counts_failures(self):
        double = self.start_double("--events", STIX_EVENT)
        double.control("/fault", {"mode": "500", "path": "/sightings/add"})
        run = self.rest(double, "--misp-sightings")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(self.sightings(double), [])
        self.assertEqual(run.stats["misp_sightings"]["sent"], 0)
        self.assertEqual(run.stats["misp_sightings"]["failed"], 6)
        self.assertIn("HTTP 500", run.stats["misp_sightings"]["last_error"])
        self.assertNotIn(KEY, run.all_output())

    def test_down_instance_counts_failures(self):
        # The first run leaves a snapshot, so the second starts while the double is down
        # and its sightings find no server.
        state = os.path.join(self.work, "state")
        double = self.start_double("--events", STIX_EVENT)
        first = self.rest(double, "--state-dir", state)
        self.assertEqual(first.returncode, 0, first.stderr)
        double.control("/down")
        run = self.rest(double, "--state-dir", state, "--misp-sightings")
        self.assertEqual(run.returncode, 0, run.stderr)
        counts = run.stats["misp_sightings"]
        self.assertEqual(counts["sent"], 0)
        self.assertEqual(counts["failed"], 6)
        self.assertIn(f"{double.url}/sightings/add", counts["last_error"])
        self.assertIn("sighting(s) not sent", run.stderr)
        self.assertNotIn(KEY, run.all_output())

    def test_sightings_need_a_rest_source(self):
        run = self.replay("--misp", STIX_EVENT, "--misp-sightings")
        self.assertEqual(run.returncode, 2)
        self.assertSensorError(run, "--misp-sightings needs a --misp-rest source")

    def test_invalid_max_tlp_is_rejected(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-sightings", "--misp-sightings-max-tlp", "purple")
        self.assertEqual(run.returncode, 2)
        self.assertSensorError(run, "--misp-sightings-max-tlp", "purple")

    def test_max_tlp_withholds_sightings(self):
        # The STIX event is tlp:white (jq '.Event.Tag[].name'); a second event tagged
        # tlp:amber lists 8.8.8.8 as ip-dst too, and alerts once per conversation (3).
        double = self.start_double("--events", STIX_EVENT)
        amber = "4f0e1d2c-3b4a-4596-8877-665544332211"
        double.control("/event/add", {"Event": {
            "uuid": "4f0e1d2c-3b4a-4596-8877-000000000001", "info": "amber test event",
            "date": "2024-01-01", "threat_level_id": "2", "published": True,
            "Tag": [{"name": "tlp:amber"}],
            "Attribute": [{"uuid": amber, "type": "ip-dst", "category": "Network activity",
                           "value": "8.8.8.8", "to_ids": True}]}})
        run = self.rest(double, "--misp-sightings", "--misp-sightings-max-tlp", "green")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(sorted(s["uuid"] for s in self.sightings(double)),
                         sorted(expected_sighted_uuids()))
        self.assertEqual(run.stats["misp_sightings"]["withheld_by_tlp"], 3)

        double.control("/requests/clear")
        run = self.rest(double, "--misp-sightings")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(amber, [r["body"]["uuid"] for r in self.sighting_requests(double)])
        self.assertEqual(run.stats["misp_sightings"]["withheld_by_tlp"], 0)


class SourceStatus(MispSyncTestCase):
    def test_stats_and_metrics_name_the_failing_source(self):
        double = self.start_double("--events", STIX_EVENT)
        sensor = Sensor(DNS_CAPTURE, STIX_EVENT, "--speed", "0.2", "--misp-rest", double.url,
                        "--misp-key-file", self.key_file, "--misp-retries", "0",
                        "--misp-timeout", "2", "--misp-sightings")
        try:
            sensor.wait_for_socket()
            stats = sensor.ctl_json("stats")["result"]
            by_name = {s["name"]: s for s in stats["misp_sources"]}
            self.assertEqual(set(by_name), {STIX_EVENT, double.url})
            rest = by_name[double.url]
            self.assertEqual(rest["kind"], "rest")
            self.assertEqual(rest["last_error"], "")
            self.assertEqual(rest["http_status"], 200)
            # jq '[.Event | (.Attribute[]?, (.Object[]?.Attribute[]?))
            #   | select(.to_ids==true)] | length' misp-stixtest-all-types.json
            self.assertEqual(rest["attributes"], 71)
            self.assertIsNotNone(rest["last_success"])

            double.control("/fault", {"mode": "500", "path": "/attributes/restSearch"})
            self.assertEqual(sensor.ctl("reload").returncode, 0)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stats = sensor.ctl_json("stats")["result"]
                by_name = {s["name"]: s for s in stats["misp_sources"]}
                if by_name[double.url]["last_error"]:
                    break
                time.sleep(0.2)
            rest = by_name[double.url]
            self.assertIn(f"MISP rest source {double.url}", rest["last_error"])
            self.assertIn("HTTP 500", rest["last_error"])
            self.assertEqual(rest["http_status"], 500)
            # The last good sync was the one at start, in the same second or before.
            self.assertGreaterEqual(rest["last_attempt"], rest["last_success"])
            self.assertEqual(by_name[STIX_EVENT]["last_error"], "")

            text = sensor.ctl("stats")
            self.assertEqual(text.returncode, 0, text.stderr)
            self.assertIn(f"misp        rest {double.url}: last good sync", text.stdout)
            self.assertIn("last error: MISP rest source", text.stdout)
            self.assertIn("sightings   0 sent, 0 failed", text.stdout)
            self.assertEqual(stats["misp_sightings"]["failed"], 0)

            # The page is rendered once a second.
            deadline = time.monotonic() + 10
            _, page = sensor.scrape()
            while f'sensor_misp_source_up{{source="{double.url}"}} 0' not in page:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
                _, page = sensor.scrape()
            self.assertIn(f'sensor_misp_source_up{{source="{double.url}"}} 0', page)
            self.assertIn(f'sensor_misp_source_up{{source="{STIX_EVENT}"}} 1', page)
            self.assertIn(f'sensor_misp_source_http_status{{source="{double.url}"}} 500', page)
            self.assertIn(f'sensor_misp_source_attributes{{source="{double.url}"}} 71', page)
            self.assertIn("sensor_misp_source_last_success_timestamp_seconds", page)
            self.assertIn('sensor_misp_sightings_total{result="sent"} 0', page)
            self.assertIn('sensor_misp_sightings_total{result="dropped_rate"} 0', page)
            for output in (json.dumps(stats), text.stdout, page):
                self.assertNotIn(KEY, output)
        finally:
            sensor.cleanup()


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""The README's demo run: demo-mix.pcap against the STIX test event, the SQL-injection
pattern event and the ASN event, with the MaxMind test databases.

Expected values come from tshark's reading of demo-mix.pcap (commands in comments), from
the MISP files and from the MaxMind test databases (`mmdblookup`).
"""

import json
import os
import subprocess
import tempfile
import unittest

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))


def data(*parts):
    return os.path.join(DATA, *parts)


class DemoReplay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as work:
            alerts_path = os.path.join(work, "alerts.ndjson")
            stats_path = os.path.join(work, "stats.json")
            cls.result = subprocess.run(
                [SENSOR, "replay", "--pcap", data("pcap", "demo-mix.pcap"),
                 "--misp", data("misp", "events", "misp-stixtest-all-types.json"),
                 "--misp", data("misp", "crafted", "dvwa-patterns.json"),
                 "--misp", data("misp", "crafted", "dns-v6-asn.json"),
                 "--geoip-city", data("mmdb", "GeoIP2-City-Test.mmdb"),
                 "--geoip-asn", data("mmdb", "GeoLite2-ASN-Test.mmdb"),
                 "--print-alerts", "40", "--alerts", alerts_path, "--stats-json", stats_path],
                capture_output=True, text=True, timeout=120, check=False)
            with open(alerts_path, encoding="utf-8") as f:
                cls.alerts = [json.loads(line) for line in f]
            with open(stats_path, encoding="utf-8") as f:
                cls.stats = json.load(f)

    def matching(self, attribute_type):
        return [a for a in self.alerts if a["misp"]["attribute"]["type"] == attribute_type]

    def test_exit_status(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_capture_fully_read(self):
        # capinfos -c demo-mix.pcap: 159 packets.
        self.assertEqual(self.stats["capture"]["packets"], 159)

    def test_address_alert(self):
        # tshark -r demo-mix.pcap -Y 'dns.qry.name=="google.com" && dns.flags.response==0'
        #   -T fields -e udp.srcport: 55398, 45421, 54380 (three lookups at 8.8.8.8).
        ports = {a["source"]["port"] for a in self.matching("ip-dst")
                 if a["destination"]["ip"] == "8.8.8.8"}
        self.assertEqual(ports, {55398, 45421, 54380})
        self.assertEqual(self.matching("ip-dst")[0]["misp"]["tlp"], "clear")

    def test_domain_alert(self):
        names = [a for a in self.matching("hostname")
                 if a["misp"]["matched_in"] == "dns.question.name"]
        self.assertEqual(len(names), 3)
        self.assertEqual(names[0]["misp"]["observed"], "google.com")
        self.assertEqual(names[0]["threat"]["indicator"]["marking"]["tlp"], "CLEAR")

    def test_pattern_alert(self):
        # tshark -r demo-mix.pcap -Y 'frame contains "UNION+SELECT"' -T fields
        #   -e tcp.srcport: 57524 (request URI) and 40112 (Referer header).
        patterns = self.matching("pattern-in-traffic")
        self.assertEqual({a["source"]["port"] for a in patterns}, {57524, 40112})
        self.assertEqual({a["misp"]["tlp"] for a in patterns}, {"green"})
        self.assertEqual({a["misp"]["matched_in"] for a in patterns}, {"payload"})

    def test_asn_enrichment(self):
        # mmdblookup -f GeoLite2-ASN-Test.mmdb -i 2003:de:2016:110::b15:22:
        #   autonomous_system_number 3320, "Deutsche Telekom AG".
        v6 = [a for a in self.alerts if a["destination"]["ip"] == "2003:de:2016:110::b15:22"]
        self.assertEqual(len(v6), 2)
        self.assertEqual(v6[0]["destination"]["as"]["number"], 3320)
        self.assertEqual(v6[0]["destination"]["as"]["organization"]["name"],
                         "Deutsche Telekom AG")
        self.assertEqual(v6[0]["misp"]["tlp"], "green")

    def test_console_shows_context(self):
        self.assertIn('in dns.question.name "google.com"', self.result.stdout)
        self.assertIn("(AS3320 Deutsche Telekom AG)", self.result.stdout)
        self.assertIn("tlp:green", self.result.stdout)

    def test_invalid_pattern_named(self):
        # dvwa-patterns.json contains one lookbehind pattern, which Hyperscan rejects.
        self.assertIn("attribute 7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c33", self.result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

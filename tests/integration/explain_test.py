#!/usr/bin/env python3
"""End-to-end tests of `sensor explain` on crafted and real MISP data and warninglists.

Expected matches come from the MISP files and warninglists themselves.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))

NAMES_EVENT = os.path.join(DATA, "misp", "crafted", "names.json")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")
PATTERN_EVENT = os.path.join(DATA, "misp", "crafted", "dvwa-patterns.json")
CIDR_UUID = "8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d69"


def explain(*arguments):
    return subprocess.run([SENSOR, "explain", *arguments], capture_output=True, text=True,
                          timeout=60, check=False)


def section(output, value):
    """The lines that explain `value`: from its header line to the next header."""
    lines = output.splitlines()
    start = lines.index(value)
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return "\n".join(lines[start:end])


class ExplainWithWarninglists(unittest.TestCase):
    """names.json plus a /24 inside Cloudflare's 104.16.0.0/13, screened by a crafted
    hostname list naming google.com and by the real Cloudflare list."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        work = cls.work.name
        lists = os.path.join(work, "warninglists")
        shutil.copytree(os.path.join(DATA, "misp", "warninglists"), lists)
        crafted = os.path.join(lists, "lists", "sensor-test-hosts")
        os.makedirs(crafted)
        with open(os.path.join(crafted, "list.json"), "w", encoding="utf-8") as f:
            json.dump({"name": "Sensor test hosts", "version": 1, "type": "hostname",
                       "description": "Names the test captures query",
                       "matching_attributes": ["domain", "hostname"],
                       "list": ["google.com"]}, f)
        with open(NAMES_EVENT, encoding="utf-8") as f:
            event = json.load(f)
        event["Event"]["Attribute"].append({
            "uuid": CIDR_UUID, "type": "ip-dst", "category": "Network activity",
            "value": "104.16.1.0/24", "to_ids": True})
        cls.event_path = os.path.join(work, "event.json")
        with open(cls.event_path, "w", encoding="utf-8") as f:
            json.dump(event, f)
        cls.result = explain("--misp", cls.event_path, "--misp", STIX_EVENT, "--misp",
                             PATTERN_EVENT, "--warninglists", lists, "www.google.com",
                             "104.16.1.7", "maps.googlevideo.com",
                             "http://bro.org/download/CHANGES.bro-aux.txt", "198.51.100.1",
                             "8.8.8.8", "id=1+UNION+SELECT+NULL", "104.16.1.0/24",
                             "fe80::1%eth0")

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_exit_status(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_removed_domain_names_list(self):
        text = section(self.result.stdout, "www.google.com")
        self.assertIn("read as domain www.google.com", text)
        self.assertIn('removed by warninglist "Sensor test hosts"', text)
        self.assertIn("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d61", text)

    def test_hostname_in_other_event_stays_active(self):
        # The STIX test event lists google.com as a hostname: an exact name, so it
        # does not cover www.google.com.
        text = section(self.result.stdout, "www.google.com")
        self.assertIn("matches no active indicator", text)

    def test_removed_cidr_names_cloudflare_list(self):
        text = section(self.result.stdout, "104.16.1.7")
        self.assertIn("read as address 104.16.1.7", text)
        self.assertIn('removed by warninglist "List of known Cloudflare IP ranges"', text)
        self.assertIn(CIDR_UUID, text)
        self.assertIn('the value itself is on warninglist "List of known Cloudflare IP ranges"',
                      text)

    def test_parent_domain_matches(self):
        text = section(self.result.stdout, "maps.googlevideo.com")
        self.assertIn("matches 1 active indicator", text)
        self.assertIn("domain googlevideo.com (domain)", text)
        self.assertIn("tlp:green", text)

    def test_url_normalised_match(self):
        text = section(self.result.stdout, "http://bro.org/download/CHANGES.bro-aux.txt")
        self.assertIn("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d67", text)
        self.assertIn("(url)", text)

    def test_unlisted_address_matches_nothing(self):
        text = section(self.result.stdout, "198.51.100.1")
        self.assertIn("matches no active indicator", text)
        self.assertNotIn("removed", text)

    def test_address_from_real_event(self):
        # misp-stixtest-all-types.json lists 8.8.8.8 as ip-dst in four objects and as
        # ip-src once.
        text = section(self.result.stdout, "8.8.8.8")
        self.assertIn("matches 5 active indicators", text)
        self.assertIn('event 1255 "STIX indicators test event", tlp:clear', text)

    def test_network_is_not_read_as_payload_only(self):
        text = section(self.result.stdout, "104.16.1.0/24")
        self.assertIn("read as network 104.16.1.0/24 (not looked up: give one address", text)

    def test_zone_is_left_out(self):
        text = section(self.result.stdout, "fe80::1%eth0")
        self.assertIn("read as address fe80::1 (zone eth0 left out", text)

    def test_payload_patterns(self):
        # dvwa-patterns.json: the literal UNION+SELECT and /union\+select\+null/i.
        text = section(self.result.stdout, "id=1+UNION+SELECT+NULL")
        self.assertIn("matches 2 active indicators", text)
        self.assertIn("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c31", text)
        self.assertIn("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c32", text)


class ExplainErrors(unittest.TestCase):
    def test_missing_misp_source(self):
        result = explain("--misp", os.path.join(DATA, "misp", "no-such-file.json"), "x.example")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no-such-file.json", result.stderr)

    def test_values_required(self):
        result = explain("--misp", NAMES_EVENT)
        self.assertEqual(result.returncode, 2)

    def test_control_characters_not_echoed(self):
        result = explain("--misp", NAMES_EVENT, "bad\u001b[2Jvalue")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("\u001b", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The YAML configuration file: `sensor check-config` on the shipped example and on broken
files, and `sensor replay --config` with command-line overrides.

Expected line numbers come from the configuration texts written here.
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
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sensor",
                       "sensor.example.yaml")
CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")


def sensor(*arguments):
    return subprocess.run([SENSOR, *arguments], capture_output=True, text=True, timeout=120,
                          check=False)


class ConfigTestCase(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.TemporaryDirectory()
        self.addCleanup(self.work.cleanup)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.work.name, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


class ShippedExample(ConfigTestCase):
    def test_example_is_valid_once_its_files_exist(self):
        root = self.work.name
        self.write("etc/misp.key", "0123456789abcdef0123456789abcdef01234567\n", 0o600)
        self.write("etc/es.key", "a2V5OnNlY3JldA==\n", 0o600)
        self.write("etc/misp-ca.pem", "")
        self.write("etc/es-ca.pem", "")
        shutil.copytree(os.path.join(DATA, "misp", "feed"), os.path.join(root, "var/site-feed"))
        shutil.copytree(os.path.join(DATA, "misp", "warninglists"),
                        os.path.join(root, "var/misp-warninglists"))
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("/etc/sensor/", root + "/etc/")
        text = text.replace("/var/lib/sensor/site-feed", root + "/var/site-feed")
        text = text.replace("/var/lib/sensor/misp-warninglists", root + "/var/misp-warninglists")
        text = text.replace("/var/lib/GeoIP/GeoLite2-City.mmdb",
                            os.path.join(DATA, "mmdb", "GeoIP2-City-Test.mmdb"))
        text = text.replace("/var/lib/GeoIP/GeoLite2-ASN.mmdb",
                            os.path.join(DATA, "mmdb", "GeoLite2-ASN-Test.mmdb"))
        text = text.replace("/var/lib/sensor", root + "/var")
        text = text.replace("/var/log/sensor/", root + "/log/")
        text = text.replace("/var/spool/sensor", root + "/spool")
        path = self.write("sensor.yaml", text)
        result = sensor("check-config", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("valid configuration for `sensor run`", result.stdout)


class BrokenFiles(ConfigTestCase):
    def check(self, text, mode="replay"):
        path = self.write("sensor.yaml", text)
        return path, sensor("check-config", path, "--mode", mode)

    def test_unknown_key_named_with_line(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                  "flows:\n  flow-capasity: 1024\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:4:3: unknown option 'flow-capasity' in section 'flows'",
                      result.stderr)
        self.assertIn("did you mean 'flow-capacity'?", result.stderr)

    def test_out_of_range_value_named_with_line(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\nworkers: 500\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: --workers", result.stderr)
        self.assertIn("500", result.stderr)

    def test_invalid_yaml_named_with_line_and_column(self):
        path, result = self.check("misp: [a,\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:2:1: invalid YAML", result.stderr)

    def test_switch_needs_boolean(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                  "include-non-ids: sometimes\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3:18: option 'include-non-ids' is a switch", result.stderr)

    def test_list_for_single_value_rejected(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\nworkers: [1, 2]\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3:10: option 'workers' takes one value", result.stderr)

    def test_same_option_in_two_sections(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                  "a:\n  workers: 1\nb:\n  workers: 2\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"option 'workers' is set twice; the first is at {path}:4",
                      result.stderr)

    def test_invalid_tlp_named_with_line(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                  "default-tlp: purple\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: invalid --default-tlp 'purple'", result.stderr)

    def test_missing_misp_source(self):
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: /nonexistent/event.json\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/event.json", result.stderr)

    def test_missing_file(self):
        result = sensor("check-config", os.path.join(self.work.name, "absent.yaml"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("absent.yaml: cannot read the configuration file", result.stderr)

    def test_option_of_other_mode(self):
        path, result = self.check(f"pcap: {CAPTURE}\n", mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:1:1: unknown option 'pcap'", result.stderr)


class ReplayWithConfig(ConfigTestCase):
    def test_config_and_command_line_override(self):
        alerts = os.path.join(self.work.name, "from-config.ndjson")
        override = os.path.join(self.work.name, "from-command-line.ndjson")
        stats = os.path.join(self.work.name, "stats.json")
        path = self.write("sensor.yaml",
                          f"replay:\n  pcap: {CAPTURE}\n  misp:\n    - {STIX_EVENT}\n"
                          f"alerts:\n  alerts: {alerts}\n  print-alerts: 0\n"
                          f"  stats-json: {stats}\n")
        result = sensor("replay", "--config", path, "--alerts", override)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(alerts))
        with open(override, encoding="utf-8") as f:
            lines = f.readlines()
        # 18 alerts: see the DnsAgainstMispStixEvent case of replay_test.py.
        self.assertEqual(len(lines), 18)
        with open(stats, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["packets"], 6)
        self.assertNotIn("ALERT", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

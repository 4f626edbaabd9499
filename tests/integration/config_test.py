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
        os.makedirs(os.path.join(root, "log"))
        path = self.write("sensor.yaml", text)
        result = sensor("check-config", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("valid configuration for `sensor run`", result.stdout)


class SystemdUnit(ConfigTestCase):
    """tools/sensor.service against systemd's own parser and the example configuration."""

    UNIT = os.path.join(os.path.dirname(EXAMPLE), "..", "tools", "sensor.service")

    def unit_settings(self):
        settings = {}
        with open(self.UNIT, encoding="utf-8") as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    key, value = line.rstrip("\n").split("=", 1)
                    settings.setdefault(key, []).append(value)
        return settings

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_accepts_the_unit(self):
        with open(self.UNIT, encoding="utf-8") as f:
            text = f.read().replace("/usr/local/bin/sensor", os.path.abspath(SENSOR))
        path = self.write("sensor.service", text)
        result = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                                text=True, timeout=60, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Unknown", result.stderr)
        self.assertNotIn("Invalid", result.stderr)

    def test_unit_runs_the_example_configuration_path(self):
        settings = self.unit_settings()
        self.assertEqual(settings["ExecStart"],
                         ["/usr/local/bin/sensor run --config /etc/sensor/sensor.yaml"])
        self.assertEqual(settings["Restart"], ["on-failure"])
        self.assertEqual(settings["LimitMEMLOCK"], ["infinity"])
        self.assertEqual(settings["KillSignal"], ["SIGTERM"])

    def test_unit_directories_match_the_example(self):
        settings = self.unit_settings()
        runtime = settings["RuntimeDirectory"][0].split()
        with open(EXAMPLE, encoding="utf-8") as f:
            example = f.read()
        # The control socket lives in RuntimeDirectory, EAL's runtime directory is
        # /run/dpdk/<file prefix>, and every path the sensor writes is in StateDirectory
        # or LogsDirectory, the only writable places under ProtectSystem=strict.
        self.assertIn("sensor", runtime)
        self.assertIn("ctl-socket: /run/sensor/ctl.sock", example)
        self.assertIn("--file-prefix sensor", example)
        self.assertIn("dpdk/sensor", runtime)
        self.assertEqual(settings["StateDirectory"], ["sensor"])
        self.assertEqual(settings["LogsDirectory"], ["sensor"])
        self.assertEqual(settings["ProtectSystem"], ["strict"])
        for key in ("state-dir", "spool-dir", "alerts"):
            # The indented key, not the section of the same name.
            value = next(line.split(":", 1)[1].strip() for line in example.splitlines()
                         if line.startswith("  " + key + ":"))
            self.assertTrue(value.startswith(("/var/lib/sensor", "/var/log/sensor")), key)


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

    def test_suggestion_only_for_close_names(self):
        # A key two edits from "flow-capacity" gets the suggestion, a key three edits away
        # does not.
        cases = (("flow-cpacty", "did you mean 'flow-capacity'?"),
                 ("flwo-capacity", "did you mean 'flow-capacity'?"),
                 ("flow-cpcty", None),
                 ("x" * 500, None))
        for key, expected in cases:
            with self.subTest(key=key[:20]):
                _, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                       f"flows:\n  {key}: 1024\n")
                self.assertEqual(result.returncode, 2)
                self.assertIn(f"unknown option '{key}'", result.stderr)
                if expected is None:
                    self.assertNotIn("did you mean", result.stderr)
                else:
                    self.assertIn(expected, result.stderr)

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

    def test_numbers_that_are_not_finite_or_too_large(self):
        # Each would otherwise overflow a conversion to nanoseconds or turn a feature off.
        cases = [("--speed", "nan"), ("--speed", "1e-9"), ("--speed", "inf"),
                 ("--dedup-window", "1e15"), ("--alert-delay", "nan"),
                 ("--idle-timeout", "0"), ("--idle-timeout", "abc")]
        for option, value in cases:
            result = sensor("replay", "--pcap", CAPTURE, "--misp", STIX_EVENT,
                            "--alerts", os.path.join(self.work.name, "a.ndjson"),
                            option, value)
            self.assertEqual(result.returncode, 2, (option, value, result.stderr))
            self.assertIn(f"{option}: '{value}' is not a number", result.stderr)
        path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\nspeed: fast\n",
                                  mode="replay")
        self.assertEqual(result.returncode, 2)
        self.assertIn("'fast' is not a number", result.stderr)

    def test_output_in_missing_directory(self):
        for key in ("alerts", "stats-json", "ctl-socket"):
            path, result = self.check(f"pcap: {CAPTURE}\nmisp: {STIX_EVENT}\n"
                                      f"{key}: /nonexistent/output\n")
            self.assertEqual(result.returncode, 2, key)
            self.assertIn(f"invalid --{key} /nonexistent/output: directory /nonexistent "
                          "does not exist", result.stderr)

    def test_directory_instead_of_file(self):
        for command in (["check-config", self.work.name],
                        ["replay", "--config", self.work.name]):
            result = sensor(*command)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(f"{self.work.name}: cannot read the configuration file: "
                          "it is a directory", result.stderr)
            self.assertNotIn("terminate called", result.stderr)

    def test_option_of_other_mode(self):
        path, result = self.check(f"pcap: {CAPTURE}\n", mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:1:1: unknown option 'pcap'", result.stderr)

    def test_run_workers_beyond_eal_lcores(self):
        # -l 0-3 gives four lcores: the main one and three workers.
        path, result = self.check(f'eal: "-l 0-3 -a 0000:3b:00.0"\nmisp: {STIX_EVENT}\n'
                                  "workers: 8\n", mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: --workers 8 needs 9 lcores", result.stderr)
        self.assertIn("--eal gives 4", result.stderr)

    def test_run_lcore_map_counts_lcores_not_cpus(self):
        # Three lcores floating over two CPUs: the main one and two workers fit.
        path, result = self.check(f'eal: "--lcores=(0-2)@(0,1) --no-huge"\n'
                                  f"misp: {STIX_EVENT}\nworkers: 2\nstate-dir: "
                                  f"{self.work.name}\n", mode="run")
        self.assertEqual(result.returncode, 0, result.stderr)
        _, result = self.check(f'eal: "--lcores=(0-2)@(0,1) --no-huge"\n'
                               f"misp: {STIX_EVENT}\nworkers: 3\n", mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--workers 3 needs 4 lcores", result.stderr)

    def test_run_port_out_of_range(self):
        # DPDK as Debian builds it has RTE_MAX_ETHPORTS 32.
        path, result = self.check(f'eal: "-l 0-3"\nmisp: {STIX_EVENT}\nport: 40\n',
                                  mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: --port 40 is out of range", result.stderr)

    def test_run_rx_descriptors_out_of_range(self):
        path, result = self.check(f'eal: "-l 0-3"\nmisp: {STIX_EVENT}\n'
                                  "rx-descriptors: 16\n", mode="run")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: --rx-descriptors", result.stderr)



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

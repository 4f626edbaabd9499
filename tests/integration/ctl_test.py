#!/usr/bin/env python3
"""The control socket, sensorctl and the Prometheus endpoint against a running replay.

dns-a-aaaa-mx.pcap contains six packets (`tshark -r dns-a-aaaa-mx.pcap -T fields
-e frame.time_relative -e frame.len`): 0.000000 81, 0.065260 273, 3.223027 81,
3.286975 109, 5.783345 81, 5.846900 189. Replayed at 0.2x they arrive at about 0 s,
0.33 s, 16.1 s, 16.4 s, 28.9 s and 29.2 s, so the tests have time to talk to the sensor
between packets 2 and 3 and again between packets 4 and 5.

Expected values come from tshark, from the MISP event file and from the replay test's
reading of the same capture, never from the sensor's own output.
"""

import atexit
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
SENSORCTL = os.environ.get("SENSORCTL_BIN", "build/tools/sensorctl")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
DNS_CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
DVWA_CAPTURE = os.path.join(DATA, "pcap", "http-sqli-dvwa.pcapng")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")
DVWA_EVENT = os.path.join(DATA, "misp", "crafted", "dvwa.json")

# Frame sizes from tshark (see the module docstring): frames 1-2 and frames 1-4.
BYTES_AFTER_FRAME_2 = 81 + 273
BYTES_AFTER_FRAME_4 = 81 + 273 + 81 + 109
# Frames 3 and 4, the only ones between the two samples of the watch below.
WATCH_PACKETS = 2
WATCH_BYTES = 81 + 109

NOBODY_UID = 65534
_SHARED_COPY = []


def sensorctl_for_any_user():
    """A copy of sensorctl that another user can run: the build tree may sit below a
    directory that only root can enter."""
    if not _SHARED_COPY:
        directory = tempfile.mkdtemp(prefix="sensorctl-")
        os.chmod(directory, 0o755)
        copy = os.path.join(directory, "sensorctl")
        shutil.copy2(SENSORCTL, copy)
        os.chmod(copy, 0o755)
        atexit.register(shutil.rmtree, directory, True)
        _SHARED_COPY.append(copy)
    return _SHARED_COPY[0]


class Sensor:
    """A replay with a control socket and a metrics endpoint in a temporary directory."""

    def __init__(self, capture, intel, *extra):
        self.work = tempfile.mkdtemp(prefix="ctl-test-")
        # Readable by others, so that only the socket's own mode keeps them out.
        os.chmod(self.work, 0o755)
        self.socket = os.path.join(self.work, "ctl.sock")
        self.alerts = os.path.join(self.work, "alerts.ndjson")
        self.stats_path = os.path.join(self.work, "stats.json")
        self.process = subprocess.Popen(
            [SENSOR, "replay", "--pcap", capture, "--misp", intel, "--alerts", self.alerts,
             "--stats-json", self.stats_path, "--ctl-socket", self.socket,
             "--metrics", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        self.stdout = ""
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()

    def _read_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def wait_for_socket(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket) and self.metrics_address():
                return
            if self.process.poll() is not None:
                raise AssertionError("sensor exited early: " + "".join(self.stderr_lines))
            time.sleep(0.05)
        raise AssertionError("no control socket after %s s" % timeout)

    def metrics_address(self):
        for line in list(self.stderr_lines):
            found = re.search(r"component=metrics event=listening address=(\S+)", line)
            if found:
                return found.group(1)
        return None

    def ctl(self, *args, user=None):
        binary = SENSORCTL if user is None else sensorctl_for_any_user()
        return subprocess.run(
            [binary, "--socket", self.socket, *args], capture_output=True, text=True,
            timeout=30, check=False,
            preexec_fn=(lambda: os.setuid(user)) if user is not None else None)

    def ctl_json(self, *args):
        result = self.ctl("--json", *args)
        if result.returncode != 0:
            raise AssertionError("sensorctl %s failed: %s" % (args, result.stderr))
        return json.loads(result.stdout)

    def connect(self):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(10)
        client.connect(self.socket)
        return client

    def scrape(self):
        url = "http://%s/metrics" % self.metrics_address()
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.headers.get("Content-Type"), response.read().decode("utf-8")

    def finish(self, timeout=120):
        self.stdout, _ = self.process.communicate(timeout=timeout)
        self._stderr_reader.join(timeout=10)
        with open(self.stats_path, encoding="utf-8") as f:
            stats = json.load(f)
        with open(self.alerts, encoding="utf-8") as f:
            alerts = [json.loads(line) for line in f]
        return stats, alerts

    def cleanup(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        subprocess.run(["rm", "-rf", self.work], check=False)


def read_lines(client, count, timeout=10):
    """Reads `count` reply lines, fewer if the server closes the connection first."""
    client.settimeout(timeout)
    data = b""
    while data.count(b"\n") < count:
        try:
            chunk = client.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.split(b"\n")[:count] if line]


def server_closed(client, timeout=10):
    client.settimeout(timeout)
    try:
        while True:
            chunk = client.recv(65536)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


SAMPLE_LINE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)\})?'
    r' (?P<value>NaN|[+-]Inf|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$')


def parse_metrics(page):
    """Checks the text exposition format 0.0.4 and returns {name: {"type", "help",
    "samples": {labels: value}}}. Raises AssertionError naming the first bad line."""
    families = {}
    current = None
    if not page.endswith("\n"):
        raise AssertionError("page does not end in a newline")
    for number, line in enumerate(page[:-1].split("\n"), 1):
        if line.startswith("# HELP "):
            name, _, text = line[7:].partition(" ")
            if name in families:
                raise AssertionError("line %d: family %s repeated" % (number, name))
            families[name] = {"help": text, "type": None, "samples": {}}
            current = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            if name != current or families[name]["type"] is not None:
                raise AssertionError("line %d: TYPE without its HELP: %s" % (number, line))
            if kind not in ("counter", "gauge"):
                raise AssertionError("line %d: unexpected type %s" % (number, kind))
            families[name]["type"] = kind
        else:
            match = SAMPLE_LINE.match(line)
            if not match:
                raise AssertionError("line %d does not parse: %r" % (number, line))
            if match.group("name") != current or families[current]["type"] is None:
                raise AssertionError("line %d: sample outside its family: %r" % (number, line))
            labels = match.group("labels") or ""
            if labels in families[current]["samples"]:
                raise AssertionError("line %d: sample repeated: %r" % (number, line))
            families[current]["samples"][labels] = float(match.group("value"))
    return families


class SlowReplay(unittest.TestCase):
    """One 0.2x replay; setUpClass drives the sensor and the tests check what it saw."""

    @classmethod
    def setUpClass(cls):
        cls.sensor = Sensor(DNS_CAPTURE, STIX_EVENT, "--speed", "0.2")
        try:
            cls.drive()
        except BaseException:
            cls.sensor.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sensor.cleanup()

    @classmethod
    def drive(cls):
        sensor = cls.sensor
        sensor.wait_for_socket()
        cls.socket_mode = os.lstat(sensor.socket).st_mode

        # Frames 1 and 2 come within 0.33 s of the start; frame 3 only 16 s later.
        deadline = time.monotonic() + 30
        while True:
            cls.first = sensor.ctl_json("stats")
            if cls.first["result"]["packets"] >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        frame_2_seen = time.monotonic()
        cls.first_human = sensor.ctl("stats")
        cls.lookup = sensor.ctl_json("lookup", "8.8.8.8")
        cls.lookup_human = sensor.ctl("lookup", "8.8.8.8")
        cls.indicators = sensor.ctl_json("indicators")
        cls.indicators_human = sensor.ctl("indicators")
        cls.reload = sensor.ctl_json("reload")
        cls.first_scrape = sensor.scrape()
        try:
            cls.not_allowed = sensor.ctl("stats", user=NOBODY_UID)
        except PermissionError:
            # Some build roots mount /tmp without exec or keep it private; then no second
            # user can run sensorctl here at all.
            cls.not_allowed = None
        cls.missing = subprocess.run(
            [SENSORCTL, "--socket", os.path.join(sensor.work, "missing.sock"), "stats"],
            capture_output=True, text=True, timeout=30, check=False)
        cls.flood()
        cls.crowd()
        cls.after_abuse = sensor.ctl_json("stats")

        # A watch whose two samples bracket frames 3 and 4 (16.1 s and 16.4 s at 0.2x,
        # so 15.8 s and 16.1 s after frame 2).
        time.sleep(max(0, frame_2_seen + 14.5 - time.monotonic()))
        cls.watch = sensor.ctl("stats", "--watch", "3", "--count", "1")

        # Frames 3 and 4 are in, frame 5 (28.6 s after frame 2) is not.
        time.sleep(max(0, frame_2_seen + 21 - time.monotonic()))
        cls.second = sensor.ctl_json("stats")
        cls.second_human = sensor.ctl("stats")
        cls.second_scrape = sensor.scrape()
        cls.final_stats, cls.alerts = sensor.finish()
        cls.returncode = sensor.process.returncode

    @classmethod
    def flood(cls):
        """Garbage from several clients at once, and one line over the 64 KiB limit."""
        sensor = cls.sensor
        garbage = [b"not json at all\n", b"\x00\xff\xfe garbage \x01\n", b"[1, 2, 3]\n",
                   b'{"command": 7}\n', b'{"command": "format-disk"}\n',
                   b'{"command": "lookup"}\n', b'{"command": "top-flows", "count": -1}\n',
                   b'{"command": "lookup", "value": "\xff\xfe"}\n']
        cls.garbage_lines_sent = 0
        replies = []

        def garbage_client():
            with sensor.connect() as client:
                payload = b"".join(garbage) * 40
                client.sendall(payload)
                replies.append(read_lines(client, len(garbage) * 40, timeout=20))

        threads = [threading.Thread(target=garbage_client) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        cls.garbage_lines_sent = 5 * 40 * len(garbage)
        cls.garbage_replies = replies

        with sensor.connect() as client:
            try:
                client.sendall(b'{"command":"lookup","value":"' + b"x" * 70000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            cls.overlong_reply = read_lines(client, 1)
            cls.overlong_closed = server_closed(client)

    @classmethod
    def crowd(cls):
        """40 clients connect at once; the server keeps 16 and turns the others away."""
        clients = [cls.sensor.connect() for _ in range(40)]
        time.sleep(0.5)
        cls.crowd_replies = []
        for client in clients:
            try:
                client.sendall(b'{"command":"stats"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
            cls.crowd_replies.extend(read_lines(client, 1))
        for client in clients:
            client.close()

    def test_socket_is_private(self):
        self.assertTrue(stat.S_ISSOCK(self.socket_mode))
        self.assertEqual(stat.S_IMODE(self.socket_mode), 0o600)

    def test_packets_increase(self):
        first = self.first["result"]
        second = self.second["result"]
        self.assertEqual(first["mode"], "replay")
        self.assertEqual(first["packets"], 2)
        self.assertEqual(first["bytes"], BYTES_AFTER_FRAME_2)
        self.assertEqual(second["packets"], 4)
        self.assertEqual(second["bytes"], BYTES_AFTER_FRAME_4)
        self.assertGreater(second["uptime_seconds"], first["uptime_seconds"] + 15)
        self.assertEqual(len(second["workers"]), 1)
        self.assertEqual(second["workers"][0]["packets"], 4)
        self.assertIn("lcore", second["workers"][0])

    def test_human_stats_show_totals(self):
        self.assertEqual(self.first_human.returncode, 0, self.first_human.stderr)
        self.assertEqual(self.second_human.returncode, 0, self.second_human.stderr)
        total = re.compile(r"^\s*total\s+(\d+)\s+(\d+)\s*$", re.M)
        first = total.search(self.first_human.stdout)
        second = total.search(self.second_human.stdout)
        self.assertIsNotNone(first, self.first_human.stdout)
        self.assertIsNotNone(second, self.second_human.stdout)
        self.assertEqual(first.groups(), ("2", str(BYTES_AFTER_FRAME_2)))
        self.assertEqual(second.groups(), ("4", str(BYTES_AFTER_FRAME_4)))
        self.assertIn("sensor replay", self.second_human.stdout)

    def test_watch_rates(self):
        self.assertEqual(self.watch.returncode, 0, self.watch.stderr)
        interval = re.search(r"rates over ([0-9.]+) s", self.watch.stdout)
        self.assertIsNotNone(interval, self.watch.stdout)
        seconds = float(interval.group(1))
        self.assertAlmostEqual(seconds, 3.0, delta=0.5)
        total = re.search(r"^\s*total\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)(k?)\s*$",
                          self.watch.stdout, re.M)
        self.assertIsNotNone(total, self.watch.stdout)
        self.assertEqual(total.group(1), "4")
        packets_per_second = float(total.group(2))
        bits_per_second = float(total.group(3)) * (1000 if total.group(4) else 1)
        self.assertAlmostEqual(packets_per_second, WATCH_PACKETS / seconds, delta=0.06)
        self.assertAlmostEqual(bits_per_second, WATCH_BYTES * 8 / seconds,
                               delta=0.03 * WATCH_BYTES * 8 / seconds)

    def test_lookup_returns_stix_event_context(self):
        result = self.lookup["result"]
        # The event lists 8.8.8.8 as ip-dst in four objects and as ip-src in an asn object.
        self.assertEqual(len(result["matches"]), 5)
        types = sorted(m["attribute"]["type"] for m in result["matches"])
        self.assertEqual(types, ["ip-dst"] * 4 + ["ip-src"])
        for match in result["matches"]:
            self.assertEqual(match["event"]["id"], "1255")
            self.assertEqual(match["event"]["uuid"], "5abb8534-ba9c-48cd-bb63-02480a00020f")
            self.assertEqual(match["event"]["info"], "STIX indicators test event")
            self.assertEqual(match["tlp"], "clear")
            self.assertIn("tlp:white", match["event"]["tags"])
        uuids = {m["attribute"]["uuid"] for m in result["matches"]}
        self.assertIn("5b23c82b-6b28-4904-81cc-045b0a00020f", uuids)

    def test_human_lookup(self):
        self.assertEqual(self.lookup_human.returncode, 0, self.lookup_human.stderr)
        self.assertIn("matches 5 indicators", self.lookup_human.stdout)
        self.assertIn('event 1255 "STIX indicators test event"', self.lookup_human.stdout)

    def test_indicator_summary(self):
        result = self.indicators["result"]
        # Counted from the event file as in the replay test.
        self.assertEqual(result["by_type"]["ip-src"], 6)
        self.assertEqual(result["by_type"]["ip-dst"], 4)
        self.assertEqual(result["events"], 1)
        self.assertEqual(sum(result["by_tlp"].values()), result["indicators"])
        self.assertEqual(self.indicators_human.returncode, 0, self.indicators_human.stderr)
        self.assertIn("ip-src 6", self.indicators_human.stdout)

    def test_reload_accepted_and_counted(self):
        self.assertTrue(self.reload["ok"])
        self.assertTrue(self.reload["result"]["accepted"])
        self.assertEqual(self.second["result"]["reloads"]["requested"], 1)
        # The sources did not change, so the reload publishes nothing.
        self.assertEqual(self.final_stats["reloads"]["requested"], 1)
        self.assertEqual(self.final_stats["reloads"]["unchanged"], 1)

    def test_other_user_is_denied(self):
        if self.not_allowed is None:
            self.skipTest("another user cannot run programs from this machine's /tmp")
        self.assertEqual(self.not_allowed.returncode, 1)
        self.assertIn("permission denied", self.not_allowed.stderr)
        self.assertEqual(len(self.not_allowed.stderr.strip().splitlines()), 1)

    def test_missing_socket_message(self):
        self.assertEqual(self.missing.returncode, 1)
        self.assertIn("no control socket at", self.missing.stderr)
        self.assertEqual(len(self.missing.stderr.strip().splitlines()), 1)

    def test_garbage_gets_error_replies(self):
        self.assertEqual(len(self.garbage_replies), 5)
        for replies in self.garbage_replies:
            self.assertEqual(len(replies), self.garbage_lines_sent // 5)
            self.assertTrue(all(reply["ok"] is False for reply in replies))
        ctl = self.after_abuse["result"]["ctl"]
        # 8 garbage lines x 40 x 5 clients: 3 not a command object, 1 not UTF-8 (whose
        # reply must still be valid JSON), 1 without a string command, 1 unknown command,
        # 2 failing commands (missing value, bad count).
        self.assertEqual(ctl["invalid_requests"], 5 * 200)
        self.assertEqual(ctl["unknown_commands"], 200)
        self.assertEqual(ctl["failed_commands"], 2 * 200)

    def test_overlong_line_closes_connection(self):
        self.assertEqual(len(self.overlong_reply), 1)
        self.assertIn("longer than 65536 bytes", self.overlong_reply[0]["error"])
        self.assertTrue(self.overlong_closed)
        self.assertEqual(self.after_abuse["result"]["ctl"]["overlong_lines"], 1)

    def test_crowd_is_limited(self):
        served = [r for r in self.crowd_replies if r["ok"]]
        turned_away = [r for r in self.crowd_replies
                       if not r["ok"] and "too many control connections" in r["error"]]
        self.assertEqual(len(served), 16)
        self.assertEqual(len(turned_away), 24)
        self.assertEqual(self.after_abuse["result"]["ctl"]["rejected_too_many"], 24)

    def test_sensor_finishes_cleanly(self):
        self.assertEqual(self.returncode, 0, "".join(self.sensor.stderr_lines))
        # The replay test's figures for this capture and event: 6 packets, 18 alerts.
        self.assertEqual(self.final_stats["packets"], 6)
        self.assertEqual(self.final_stats["alerts"]["written"], 18)
        self.assertEqual(len(self.alerts), 18)
        self.assertEqual(self.final_stats["mbufs_in_use_at_exit"], 0)
        self.assertFalse(os.path.exists(self.sensor.socket))

    def test_metrics_parse(self):
        for content_type, page in (self.first_scrape, self.second_scrape):
            self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
            families = parse_metrics(page)
            for name, family in families.items():
                self.assertTrue(family["help"], name)
                if family["type"] == "counter":
                    self.assertTrue(name.endswith("_total"), name)

    def test_metrics_counters_monotonic(self):
        first = parse_metrics(self.first_scrape[1])
        second = parse_metrics(self.second_scrape[1])
        counters = [name for name, family in first.items() if family["type"] == "counter"]
        self.assertIn("sensor_packets_total", counters)
        for name in counters:
            for labels, value in first[name]["samples"].items():
                self.assertIn(labels, second[name]["samples"], name)
                self.assertGreaterEqual(second[name]["samples"][labels], value, name + labels)

    def test_metrics_values(self):
        second = parse_metrics(self.second_scrape[1])
        packets = second["sensor_packets_total"]["samples"]
        self.assertEqual(len(packets), 1)
        labels, value = next(iter(packets.items()))
        self.assertTrue(labels.startswith('worker="0",lcore="'), labels)
        self.assertEqual(value, 4)
        self.assertEqual(sum(second["sensor_bytes_total"]["samples"].values()),
                         BYTES_AFTER_FRAME_4)
        self.assertEqual(second["sensor_reload_requests_total"]["samples"][""], 1)
        self.assertEqual(second["sensor_indicators"]["samples"]['type="ip-src"'], 6)


class TopFlows(unittest.TestCase):
    """http-sqli-dvwa.pcapng at 10x: the connection from port 39004 (frames 1-5) closes
    with FINs at 4.75 s, and the ARP frames 6-9 (14.9 s to 17.9 s) are four separate
    bursts after its 5 s closed timeout. A table of 64 flows has 16 buckets and each
    burst sweeps 4, so the flow has ended by frame 9, 1.8 s into the replay, while the
    next connection (from 53796) only closes at 38.1 s."""

    def test_ended_flow_is_listed(self):
        sensor = Sensor(DVWA_CAPTURE, DVWA_EVENT, "--speed", "10", "--flow-capacity", "64")
        try:
            sensor.wait_for_socket()
            reply = None
            human = None

            while sensor.process.poll() is None:
                result = sensor.ctl("--json", "top-flows", "5")
                if result.returncode == 0:
                    reply = json.loads(result.stdout)
                    if reply["result"]["flows"]:
                        human = sensor.ctl("top-flows", "5")
                        break
                time.sleep(0.1)
            sensor.finish()
        finally:
            sensor.cleanup()

        self.assertEqual(sensor.process.returncode, 0)
        self.assertIsNotNone(reply)
        flows = reply["result"]["flows"]
        self.assertEqual(len(flows), 1, flows)
        flow = flows[0]
        # tshark -Y tcp.port==39004 -T fields -e ip.src -e tcp.srcport -e ip.len: frames 1
        # and 4 from 192.168.111.148:39004, frames 2, 3 and 5 from 192.168.111.154:80, all
        # with ip.len 52.
        self.assertEqual(flow["transport"], "tcp")
        self.assertEqual(flow["source"], {"ip": "192.168.111.148", "port": 39004,
                                          "packets": 2, "bytes": 104})
        self.assertEqual(flow["destination"], {"ip": "192.168.111.154", "port": 80,
                                               "packets": 3, "bytes": 156})
        self.assertEqual(flow["bytes"], 260)
        self.assertEqual(flow["end_reason"], "end_of_flow")
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertRegex(human.stdout,
                         r"192\.168\.111\.148:39004\s+192\.168\.111\.154:80\s+5\s+260")


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])

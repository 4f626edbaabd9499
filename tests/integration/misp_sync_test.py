#!/usr/bin/env python3
"""End-to-end tests: the built sensor syncs MISP over HTTP from the MISP double.

The double (tools/doubles/misp_double.py) serves the real MISP files of tests/data/misp
on 127.0.0.1 as a feed and through /attributes/restSearch. Expected numbers come from
those files with jq (commands in the comments) and from tshark's reading of the capture,
as in replay_test.py, never from the sensor's own output.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import urllib.request

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
DOUBLE = os.environ.get("MISP_DOUBLE", os.path.join(os.path.dirname(__file__), "..", "..",
                                                    "tools", "doubles", "misp_double.py"))

KEY = "Tr6pWz3kLm9QxV2cHs8yBn4dFg7jKa1eUo5iRt0w"
WRONG_KEY = "NotTheKeyNotTheKeyNotTheKeyNotTheKey0000"
CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")

# replay_test.py, DnsAgainstMispStixEvent: tshark -q -z conv,udp finds 3 conversations
# between 10.16.1.11 and 8.8.8.8, each matching 6 attributes of the STIX test event.
STIX_ALERTS = 18


class MispDouble:
    """A running misp_double.py; stop() ends the process, so its port refuses."""

    def __init__(self, *extra, scheme="http"):
        self.process = subprocess.Popen(
            [sys.executable, DOUBLE, "--key", KEY, "--data", os.path.join(DATA, "misp"),
             *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.process.stdout.readline())
        self.control_port = int(self.process.stdout.readline().split()[1])
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def control(self, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}",
            data=json.dumps(body or {}).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def requests(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control_port}/requests",
                                    timeout=10) as response:
            return json.load(response)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()


class Run:
    """One finished replay: exit status, console output, alerts and statistics."""

    def __init__(self, result, alerts, stats):
        self.returncode = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.alerts = alerts
        self.stats = stats

    def all_output(self):
        return self.stdout + self.stderr + json.dumps(self.alerts) + json.dumps(self.stats)


class MispSyncTestCase(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="misp-sync-test-")
        self.key_file = self.write_key(KEY)
        self.doubles = []

    def tearDown(self):
        for double in self.doubles:
            double.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def start_double(self, *extra, scheme="http"):
        double = MispDouble(*extra, scheme=scheme)
        self.doubles.append(double)
        return double

    def write_key(self, key, name="misp.key", mode=0o600):
        path = os.path.join(self.work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(key + "\n")
        os.chmod(path, mode)
        return path

    def replay(self, *arguments, timeout=120):
        alerts_path = os.path.join(self.work, "alerts.ndjson")
        stats_path = os.path.join(self.work, "stats.json")
        for path in (alerts_path, stats_path):
            if os.path.exists(path):
                os.remove(path)
        result = subprocess.run(
            [SENSOR, "replay", "--pcap", CAPTURE, "--alerts", alerts_path, "--stats-json",
             stats_path, "--misp-retries", "1", "--misp-timeout", "2", *arguments],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=self.work)
        alerts = []
        if os.path.exists(alerts_path):
            with open(alerts_path, encoding="utf-8") as f:
                alerts = [json.loads(line) for line in f]
        stats = None
        if os.path.exists(stats_path):
            with open(stats_path, encoding="utf-8") as f:
                stats = json.load(f)
        return Run(result, alerts, stats)

    def rest(self, double, *arguments):
        return self.replay("--misp-rest", double.url, "--misp-key-file", self.key_file,
                           *arguments)

    def assertSensorError(self, run, *parts):
        """The run failed with one "sensor:" line that contains every part."""
        errors = [line for line in run.stderr.splitlines() if line.startswith("sensor: ")]
        self.assertEqual(len(errors), 1, run.stderr)
        for part in parts:
            self.assertIn(part, errors[0])

    def assertStixAlerts(self, run, feed_name):
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(len(run.alerts), STIX_ALERTS, run.stderr)
        for alert in run.alerts:
            self.assertEqual(alert["threat"]["feed"]["name"], feed_name)
            self.assertEqual(alert["misp"]["event"]["uuid"],
                             "5abb8534-ba9c-48cd-bb63-02480a00020f")


class FeedSync(MispSyncTestCase):
    def test_feed_url_loads_every_event(self):
        double = self.start_double()
        run = self.replay("--misp", double.url + "/feed/")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(f"synced feed source {double.url}/feed/: 5 events", run.stderr)
        loaded = run.stats["indicators"]["loaded_by_type"]
        # jq '[.Event.Attribute[] | select(.type=="ip-dst" and .to_ids==true)] | length'
        #   tests/data/misp/feed/*-*.json, summed: 35 ip-dst and 8 url.
        self.assertEqual(loaded["ip-dst"], 35)
        self.assertEqual(loaded["url"], 8)
        # The same for domain gives 164. One value, xn--29s7inly9ib.ub66.com, is not
        # valid punycode (python3: 'xn--29s7inly9ib'.encode().decode('idna') raises), so
        # 163 load and 1 is rejected, naming the event's URL.
        self.assertEqual(loaded["domain"], 163)
        self.assertEqual(run.stats["indicators"]["rejected"], 1)
        self.assertIn(f"{double.url}/feed/2dc45085-7f6b-48ee-b726-400a326ad9b5.json: "
                      "attribute 56b45763-b9d6-4ef1-acd7-738386a81d0f", run.stderr)
        paths = [r["path"] for r in double.requests()]
        self.assertEqual(paths[0], "/feed/manifest.json")
        self.assertEqual(len(paths), 6)

    def test_manifest_url_works_too(self):
        double = self.start_double()
        run = self.replay("--misp", double.url + "/feed/manifest.json")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stats["indicators"]["loaded_by_type"]["ip-dst"], 35)

    def test_html_feed_is_rejected(self):
        double = self.start_double()
        double.control("/fault", {"mode": "html"})
        run = self.replay("--misp", double.url + "/feed/")
        self.assertEqual(run.returncode, 1)
        self.assertSensorError(run, f"{double.url}/feed/manifest.json", "HTML")


class RestSync(MispSyncTestCase):
    def test_paged_sync_alerts_like_the_file(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-page-size", "10")
        self.assertStixAlerts(run, double.url)
        # jq '[.Event | (.Attribute[]?, (.Object[]?.Attribute[]?)) | select(.to_ids==true)]
        #   | length' misp-stixtest-all-types.json: 71, so 7 full pages of 10 and one of 1.
        requests = double.requests()
        self.assertEqual([r["body"]["page"] for r in requests], list(range(1, 9)))
        for request in requests:
            self.assertEqual(request["path"], "/attributes/restSearch")
            self.assertTrue(request["authorization_ok"])
            self.assertEqual(request["body"]["limit"], 10)
            self.assertEqual(request["body"]["timestamp"], 0)
            self.assertEqual(request["body"]["deleted"], [0, 1])
            self.assertEqual(request["body"]["to_ids"], 1)
            self.assertTrue(request["body"]["includeEventTags"])
        self.assertIn(f"synced rest source {double.url}: 1 events, 71 attributes", run.stderr)
        # replay_test.py counts the same address indicators from the file.
        loaded = run.stats["indicators"]["loaded_by_type"]
        self.assertEqual(loaded["ip-src"], 6)
        self.assertEqual(loaded["ip-dst"], 4)
        self.assertEqual(loaded["ip-dst|port"], 1)
        self.assertEqual(loaded["domain|ip"], 1)
        alert = run.alerts[0]
        self.assertEqual(alert["misp"]["event"]["id"], "1255")
        self.assertEqual(alert["misp"]["event"]["info"], "STIX indicators test event")
        self.assertIn("tlp:white", alert["misp"]["event"]["tags"])
        self.assertEqual(alert["threat"]["indicator"]["marking"]["tlp"], "CLEAR")
        self.assertNotIn(KEY, run.all_output())

    def test_tag_filter_is_sent(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double, "--misp-tag", "tlp:red", "--misp-published-only")
        # The STIX test event has no tlp:red tag (jq '.Event.Tag[].name'), so nothing
        # loads and no alert is written.
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(len(run.alerts), 0)
        body = double.requests()[0]["body"]
        self.assertEqual(body["tags"], ["tlp:red"])
        self.assertEqual(body["published"], 1)

    def test_sources_merge_keeping_both_contexts(self):
        # The REST source serves the ASERT event, which matches nothing in the capture,
        # plus one ip-dst 8.8.8.8 added to it. The file is the STIX test event.
        asert = os.path.join(DATA, "misp", "events", "circl-osint-asert-four-element-sword.json")
        double = self.start_double("--events", asert)
        double.control("/attribute/add", {"event_uuid": "57153590-f73c-49fa-be4b-4737950d210f",
                                          "type": "ip-dst", "value": "8.8.8.8"})
        run = self.rest(double, "--misp", STIX_EVENT)
        self.assertEqual(run.returncode, 0, run.stderr)
        names = [a["threat"]["feed"]["name"] for a in run.alerts]
        self.assertEqual(names.count(STIX_EVENT), STIX_ALERTS)
        # tshark -Y 'ip.dst == 8.8.8.8': 3 queries, one per conversation.
        self.assertEqual(names.count(double.url), 3)
        for alert in run.alerts:
            if alert["threat"]["feed"]["name"] == double.url:
                self.assertEqual(alert["misp"]["event"]["uuid"],
                                 "57153590-f73c-49fa-be4b-4737950d210f")


class Credentials(MispSyncTestCase):
    def test_wrong_key_is_a_clear_error(self):
        double = self.start_double("--events", STIX_EVENT)
        wrong = self.write_key(WRONG_KEY, name="wrong.key")
        run = self.replay("--misp-rest", double.url, "--misp-key-file", wrong)
        self.assertEqual(run.returncode, 1)
        self.assertSensorError(run, double.url, "HTTP 403", "Authentication failed", wrong)
        self.assertNotIn(WRONG_KEY, run.all_output())
        self.assertNotIn(KEY, run.all_output())
        self.assertEqual(len(double.requests()), 1)

    def test_readable_key_file_is_refused(self):
        double = self.start_double("--events", STIX_EVENT)
        shared = self.write_key(KEY, name="shared.key", mode=0o644)
        run = self.replay("--misp-rest", double.url, "--misp-key-file", shared)
        self.assertEqual(run.returncode, 1)
        self.assertSensorError(run, shared, "chmod 600")
        self.assertNotIn(KEY, run.all_output())
        self.assertEqual(double.requests(), [])

    def test_rest_needs_key_file(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.replay("--misp-rest", double.url)
        self.assertEqual(run.returncode, 2)
        self.assertSensorError(run, "--misp-key-file")

    def test_credentials_in_url_are_refused(self):
        run = self.replay("--misp", "http://user:hunter2@127.0.0.1:1/feed/")
        self.assertEqual(run.returncode, 2)
        self.assertSensorError(run, "--misp-key-file")
        self.assertNotIn("hunter2", run.stderr)


FAULTS = [
    ({"mode": "500"}, "HTTP 500: An Internal Error Has Occurred. (2 attempts)"),
    ({"mode": "html"}, "an HTML page, not JSON"),
    ({"mode": "slow", "seconds": 5}, "timed out"),
    ({"mode": "truncated"}, "truncated JSON"),
    ({"mode": "shape"}, 'expected {"response": {"Attribute": [...]}}'),
    (None, "Couldn't connect to server"),  # The listener is closed.
]


class Faults(MispSyncTestCase):
    def inject(self, double, fault):
        if fault is None:
            double.control("/down")
        else:
            double.control("/fault", fault)

    def test_fault_without_snapshot_stops_the_run(self):
        for fault, reason in FAULTS:
            with self.subTest(fault=fault):
                double = self.start_double("--events", STIX_EVENT)
                self.inject(double, fault)
                run = self.rest(double)
                self.assertEqual(run.returncode, 1, run.stderr)
                self.assertSensorError(run, f"MISP rest source {double.url}",
                                       f"{double.url}/attributes/restSearch", reason)
                self.assertEqual(run.alerts, [])
                self.assertNotIn(KEY, run.all_output())

    def test_fault_with_snapshot_starts_from_it(self):
        state = os.path.join(self.work, "state")
        for fault, reason in FAULTS:
            with self.subTest(fault=fault):
                double = self.start_double("--events", STIX_EVENT)
                first = self.rest(double, "--state-dir", state)
                self.assertStixAlerts(first, double.url)
                self.inject(double, fault)
                run = self.rest(double, "--state-dir", state)
                self.assertStixAlerts(run, double.url)
                warnings = [line for line in run.stderr.splitlines()
                            if "using the snapshot" in line]
                self.assertEqual(len(warnings), 1, run.stderr)
                self.assertIn(reason, warnings[0])
                self.assertIn(os.path.join(state, "misp-rest-127.0.0.1_"), warnings[0])
                self.assertRegex(warnings[0], r"written \d+s ago")
                self.assertNotIn(KEY, run.all_output())


def make_certificates(directory):
    """Create a CA and a certificate for 127.0.0.1 signed by it with the openssl tool.
    Returns the paths of the CA certificate, the server certificate and its key."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    request = os.path.join(directory, "server.csr")
    certificate = os.path.join(directory, "server.pem")
    extensions = os.path.join(directory, "server.ext")
    with open(extensions, "w", encoding="utf-8") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
         "-out", ca, "-days", "2", "-subj", "/CN=sensor test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
         "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions],
    ]
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return ca, certificate, key


@unittest.skipIf(shutil.which("openssl") is None, "needs the openssl tool")
class Tls(MispSyncTestCase):
    def setUp(self):
        super().setUp()
        self.ca, certificate, key = make_certificates(self.work)
        self.double = self.start_double("--events", STIX_EVENT, "--tls-cert", certificate,
                                        "--tls-key", key, scheme="https")

    def test_unknown_ca_is_rejected(self):
        run = self.rest(self.double)
        self.assertEqual(run.returncode, 1)
        self.assertSensorError(run, self.double.url, "certificate")

    def test_ca_file_verifies_server(self):
        run = self.rest(self.double, "--misp-ca", self.ca)
        self.assertStixAlerts(run, self.double.url)

    def test_insecure_skips_verification(self):
        run = self.rest(self.double, "--misp-insecure")
        self.assertStixAlerts(run, self.double.url)


class Persistence(MispSyncTestCase):
    def test_second_run_with_misp_down_uses_saved_snapshot(self):
        state = os.path.join(self.work, "state")
        double = self.start_double("--events", STIX_EVENT)
        first = self.rest(double, "--state-dir", state)
        self.assertStixAlerts(first, double.url)
        snapshots = os.listdir(state)
        self.assertEqual(len(snapshots), 1)
        snapshot = os.path.join(state, snapshots[0])
        self.assertEqual(stat.S_IMODE(os.stat(snapshot).st_mode), 0o600)
        with open(snapshot, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(KEY, text)
        document = json.loads(text)
        self.assertEqual(document["sensor_snapshot"]["source"], double.url)
        self.assertEqual(len(document["response"]), 1)

        double.stop()
        second = self.rest(double, "--state-dir", state)
        self.assertStixAlerts(second, double.url)
        self.assertIn(f"using the snapshot {snapshot} written", second.stderr)
        self.assertEqual(second.stats["indicators"]["loaded_by_type"],
                         first.stats["indicators"]["loaded_by_type"])
        # The snapshot is also an ordinary MISP file for --misp.
        third = self.replay("--misp", snapshot)
        self.assertEqual(third.returncode, 0, third.stderr)
        self.assertEqual(len(third.alerts), STIX_ALERTS)

    def test_feed_snapshot(self):
        state = os.path.join(self.work, "state")
        double = self.start_double()
        first = self.replay("--misp", double.url + "/feed/", "--state-dir", state)
        self.assertEqual(first.returncode, 0, first.stderr)
        double.stop()
        second = self.replay("--misp", double.url + "/feed/", "--state-dir", state)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("using the snapshot", second.stderr)
        self.assertEqual(second.stats["indicators"]["loaded_by_type"],
                         first.stats["indicators"]["loaded_by_type"])

    def test_replay_keeps_no_snapshot_unless_asked(self):
        double = self.start_double("--events", STIX_EVENT)
        run = self.rest(double)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn("snapshot", run.stderr)
        self.assertEqual(sorted(os.listdir(self.work)),
                         ["alerts.ndjson", "misp.key", "stats.json"])


if __name__ == "__main__":
    unittest.main()

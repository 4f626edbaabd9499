#!/usr/bin/env python3
"""End-to-end tests of the Elasticsearch output and of the alert file's rotation.

The built sensor replays real captures against MISP data and sends its alerts to
tools/doubles/es_double.py, a stand-in for the _bulk API. The tests start it on
127.0.0.1 with faults: down at start, down in the middle of a request, 429 and 500
bursts, per-item failures and slow responses. Whatever the fault, every alert in the
NDJSON file must be stored exactly once under its event.id, or be in the dead-letter
file because the double rejected it for good. The expected alert counts are those of
replay_test.py, which derives them from tshark and the MISP files.
"""

import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
DOUBLE = os.environ.get("ES_DOUBLE", os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "tools", "doubles", "es_double.py"))
API_KEY = "c2Vuc29yLXRlc3Q6c2VjcmV0"  # base64 of "sensor-test:secret".

DNS_CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")
# dns-a-aaaa-mx.pcap against the STIX test event: 3 DNS flows x 6 attributes.
DNS_ALERTS = 18
HTTP_CAPTURE = os.path.join(DATA, "pcap", "http-get-bro.org.pcap")
HTTP_EVENT = os.path.join(DATA, "misp", "crafted", "http-bro-org.json")
HTTP_ALERTS = 4  # One TCP flow, 4 matching attributes.
DVWA_CAPTURE = os.path.join(DATA, "pcap", "http-sqli-dvwa.pcapng")
DVWA_EVENT = os.path.join(DATA, "misp", "crafted", "dvwa.json")
DVWA_ALERTS = 4  # 4 TCP flows, one tlp:red attribute.
ROTATED = re.compile(r"alerts\.ndjson\.\d{8}T\d{6}Z(\.\d+)?$")


class EsDouble:
    """The _bulk double as a child process, with its debug endpoints."""

    def __init__(self, *faults, api_key=API_KEY, log_path=os.devnull):
        command = [sys.executable, DOUBLE, *faults]
        if api_key:
            command += ["--api-key", api_key]
        self.log = open(log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True)
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"es_double did not start: {line!r}")
        self.url = match.group(0)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def request(self, path, body=None, method=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def docs(self):
        return self.request("/_double/docs")["docs"]

    def stats(self):
        return self.request("/_double/stats")

    def fault(self, **settings):
        return self.request("/_double/fault", settings, method="POST")


class SensorRun:
    """One sensor process working in `work`: alerts file, spool and dead letters there."""

    def __init__(self, work, capture, intel, es_url, *extra, key_file=None, alerts=None):
        self.work = work
        self.alerts_path = alerts or os.path.join(work, "alerts.ndjson")
        self.stats_path = os.path.join(work, "stats.json")
        self.stderr_path = os.path.join(work, "stderr.txt")
        command = [SENSOR, "replay", "--pcap", capture, "--misp", intel,
                   "--alerts", self.alerts_path, "--stats-json", self.stats_path,
                   "--print-alerts", "0"]
        if es_url:
            command += ["--elasticsearch", es_url, "--elasticsearch-backoff-max", "1"]
            command += ["--elasticsearch-key-file", key_file or write_key_file(work)]
        command += list(extra)
        if os.path.exists(self.stats_path):
            os.remove(self.stats_path)
        self.stderr_file = open(self.stderr_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=self.stderr_file, text=True)
        self.stdout = ""

    def wait(self, timeout=120):
        self.stdout, _ = self.process.communicate(timeout=timeout)
        self.stderr_file.close()
        return self.process.returncode

    def signal(self, number):
        self.process.send_signal(number)

    def kill(self):
        self.process.kill()
        self.wait()
        # SIGKILL skips DPDK's cleanup; remove the run directory this process made.
        shutil.rmtree(f"/var/run/dpdk/sensor-replay-{self.process.pid}", ignore_errors=True)

    def cleanup(self):
        """Ends the process if a failed test left it running."""
        if self.process.poll() is None:
            self.kill()
        if not self.stderr_file.closed:
            self.stderr_file.close()

    @property
    def stderr(self):
        with open(self.stderr_path, encoding="utf-8") as f:
            return f.read()

    @property
    def stats(self):
        with open(self.stats_path, encoding="utf-8") as f:
            return json.load(f)


def write_key_file(work, mode=0o600):
    path = os.path.join(work, "es-api-key")
    with open(path, "w", encoding="utf-8") as f:
        f.write(API_KEY + "\n")
    os.chmod(path, mode)
    return path


def read_ids(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["event"]["id"] for line in f]


def dead_letters(run):
    path = run.alerts_path + ".dead-letter.ndjson"
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def wait_for(condition, timeout, description):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {description}")


def line_count(path):
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


class EsTestCase(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="es-test-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def double(self, *faults, **kwargs):
        log_path = os.path.join(self.work, f"es-double-{len(os.listdir(self.work))}.log")
        double = EsDouble(*faults, log_path=log_path, **kwargs)
        self.addCleanup(double.stop)
        return double

    def start_sensor(self, capture, intel, es_url, *extra, work=None, **kwargs):
        run = SensorRun(work or self.work, capture, intel, es_url, *extra, **kwargs)
        self.addCleanup(run.cleanup)
        return run

    def run_sensor(self, capture, intel, es_url, *extra, timeout=120, **kwargs):
        run = self.start_sensor(capture, intel, es_url, *extra, **kwargs)
        run.wait(timeout)
        return run

    def assertDeliveredOnce(self, double, expected_ids, dead_ids=()):
        """Every id is stored exactly once, except the dead letters, which are not."""
        expected_ids = set(expected_ids)
        dead_ids = set(dead_ids)
        docs = double.docs()
        stored = [doc["_id"] for doc in docs]
        self.assertEqual(len(stored), len(set(stored)), "an _id is stored twice")
        self.assertEqual(set(stored), expected_ids - dead_ids)
        self.assertTrue(dead_ids <= expected_ids)
        for doc in docs:
            self.assertEqual(doc["_source"]["event"]["id"], doc["_id"])
            self.assertEqual(doc["created"], 1)

    def assertCleanDelivery(self, run, double, expected_count):
        self.assertEqual(run.process.returncode, 0, run.stderr)
        ids = read_ids(run.alerts_path)
        self.assertEqual(len(ids), expected_count)
        self.assertDeliveredOnce(double, ids)
        es = run.stats["elasticsearch"]
        self.assertEqual(es["spool"]["spooled"], 0)
        self.assertEqual(es["dead_lettered"], 0)
        self.assertEqual(es["created"] + es["already_present"], expected_count)
        return es


class Delivery(EsTestCase):
    def test_all_alerts_indexed_by_event_id(self):
        double = self.double()
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertEqual(es["queued"], DNS_ALERTS)
        self.assertEqual(es["created"], DNS_ALERTS)
        self.assertEqual(es["request_failures"], 0)
        # Frame 1 of the capture is at 2017-05-09T21:07:38Z (tshark frame.time_epoch).
        indices = {doc["_index"] for doc in double.docs()}
        self.assertEqual(indices, {"sensor-alerts-2017.05.09"})
        stats = double.stats()
        self.assertEqual(stats["gzip_requests"], stats["bulk_requests"])
        self.assertEqual(stats["auth_failures"], 0)
        search = double.request("/sensor-alerts-*/_search?size=100",
                                headers={"Authorization": "ApiKey " + API_KEY})
        self.assertEqual(search["hits"]["total"]["value"], DNS_ALERTS)
        self.assertIn("elasticsearch", run.stdout)
        # All 18 records are in one segment and acknowledged, 12 bytes each in acked.log.
        spool = run.alerts_path + ".spool"
        self.assertEqual(len(glob.glob(os.path.join(spool, "*.seg"))), 1)
        self.assertEqual(os.path.getsize(os.path.join(spool, "acked.log")), 12 * DNS_ALERTS)

    def test_index_pattern_and_uncompressed(self):
        double = self.double()
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-index", "alerts-%Y%m%d%H",
                              "--elasticsearch-no-gzip")
        self.assertCleanDelivery(run, double, DNS_ALERTS)
        # Frames 1-6 all fall in the 21:00 UTC hour of 2017-05-09.
        self.assertEqual({doc["_index"] for doc in double.docs()}, {"alerts-2017050921"})
        self.assertEqual(double.stats()["gzip_requests"], 0)

    def test_second_replay_stores_nothing_twice(self):
        double = self.double()
        first = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        self.assertCleanDelivery(first, double, DNS_ALERTS)
        # Same capture, same ids: every create returns 409, which counts as delivered.
        second = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        self.assertEqual(second.process.returncode, 0, second.stderr)
        self.assertEqual(second.stats["elasticsearch"]["already_present"], DNS_ALERTS)
        self.assertEqual(double.stats()["conflicts"], DNS_ALERTS)
        self.assertDeliveredOnce(double, read_ids(first.alerts_path))

    def test_tlp_limit_of_the_output(self):
        # crafted/http-bro-org.json: 3 alerts at amber (event tag), 1 at green.
        double = self.double()
        run = self.run_sensor(HTTP_CAPTURE, HTTP_EVENT, double.url,
                              "--elasticsearch-max-tlp", "green")
        self.assertEqual(run.process.returncode, 0, run.stderr)
        self.assertEqual(line_count(run.alerts_path), HTTP_ALERTS)
        docs = double.docs()
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]["_source"]["misp"]["tlp"], "green")
        self.assertEqual(run.stats["elasticsearch"]["withheld_by_tlp"], 3)
        self.assertEqual(run.stats["alerts"]["withheld_by_tlp"], 0)


class Faults(EsTestCase):
    def test_down_at_start(self):
        double = self.double("--down-at-start", "4")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertGreaterEqual(es["request_failures"], 1)
        self.assertGreaterEqual(es["retried"], DNS_ALERTS)
        self.assertIn("event=request_failed", run.stderr)
        self.assertIn("event=delivery_resumed", run.stderr)

    def test_down_in_the_middle_of_a_request(self):
        # The second request's documents are stored, then the connection drops and the
        # double stops listening for 3 s: the retry finds them there (409).
        double = self.double("--down-after-requests", "1", "--down-for", "3")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-batch-docs", "5")
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertEqual(double.stats()["dropped_connections"], 1)
        self.assertEqual(es["already_present"], 5)
        self.assertGreaterEqual(es["request_failures"], 1)

    def test_429_bursts(self):
        double = self.double("--fail-requests", "429:3", "--fail-requests", "429:2:6")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-batch-docs", "4")
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertEqual(double.stats()["failed_requests"], 5)
        self.assertEqual(es["request_failures"], 5)
        self.assertIn("HTTP 429", run.stderr)

    def test_500_requests_and_items(self):
        double = self.double("--fail-requests", "500:2", "--fail-items", "500:0.4",
                             "--fail-items", "503:0.2")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        failures = double.stats()["item_failures"]
        item_failures = failures.get("500", 0) + failures.get("503", 0)
        self.assertGreater(item_failures, 0)
        self.assertEqual(es["request_failures"], 2)
        # Each failed request retries its whole batch, each failed item itself.
        self.assertGreaterEqual(es["retried"], 2 + item_failures)

    def test_partial_item_failures(self):
        double = self.double("--fail-items", "429:0.25", "--fail-items", "500:0.15",
                             "--fail-items", "400:0.25")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url)
        self.assertEqual(run.process.returncode, 0, run.stderr)
        ids = read_ids(run.alerts_path)
        self.assertEqual(len(ids), DNS_ALERTS)
        rejected = double.stats()["rejected_ids"]
        self.assertGreater(len(rejected), 0)
        letters = dead_letters(run)
        self.assertEqual({letter["elasticsearch"]["_id"] for letter in letters}, set(rejected))
        for letter in letters:
            self.assertEqual(letter["elasticsearch"]["status"], 400)
            self.assertEqual(letter["elasticsearch"]["error"]["type"], "mapper_parsing_exception")
            self.assertIn("failed to parse", letter["elasticsearch"]["error"]["reason"])
            self.assertEqual(letter["document"]["event"]["id"], letter["elasticsearch"]["_id"])
        self.assertDeliveredOnce(double, ids, dead_ids=set(rejected))
        es = run.stats["elasticsearch"]
        self.assertEqual(es["dead_lettered"], len(rejected))
        self.assertEqual(es["spool"]["spooled"], 0)
        self.assertEqual(es["created"], DNS_ALERTS - len(rejected))
        self.assertIn("event=document_rejected", run.stderr)

    def test_slow_responses_time_out(self):
        # The first two requests are stored, but their responses come after 3 s, past the
        # 1 s timeout. The retries of the first batch then return 409.
        double = self.double("--slow", "3:2")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-timeout", "1", "--elasticsearch-batch-docs", "6")
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertEqual(es["request_failures"], 2)
        self.assertEqual(es["already_present"], 6)
        self.assertIn("timed out", run.stderr)

    def test_slow_responses_within_timeout(self):
        double = self.double("--slow", "0.5")
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-batch-docs", "5")
        es = self.assertCleanDelivery(run, double, DNS_ALERTS)
        self.assertEqual(es["request_failures"], 0)
        # 18 alerts in batches of at most 5.
        self.assertGreaterEqual(es["requests"], 4)

    def test_missing_credentials_keep_alerts_spooled(self):
        double = self.double()
        wrong_key = os.path.join(self.work, "wrong-key")
        with open(wrong_key, "w", encoding="utf-8") as f:
            f.write("d3Jvbmc6a2V5\n")
        os.chmod(wrong_key, 0o600)
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                              "--elasticsearch-drain-timeout", "2", key_file=wrong_key)
        self.assertEqual(run.process.returncode, 0, run.stderr)
        self.assertEqual(double.docs(), [])
        self.assertIn("HTTP 401", run.stderr)
        self.assertEqual(run.stats["elasticsearch"]["spool"]["spooled"], DNS_ALERTS)
        self.assertIn("event=drain_incomplete", run.stderr)
        self.assertIn("18 left for the next run", run.stdout)


class Restarts(EsTestCase):
    def test_sigterm_then_next_run_delivers_the_spool(self):
        # No cluster during the first run: a bound port that refuses connections.
        absent = self.double("--down-at-start", "600")
        first = self.start_sensor(DNS_CAPTURE, STIX_EVENT, absent.url, "--speed", "0.5",
                          "--elasticsearch-drain-timeout", "2")
        # At 0.5x, frames 1-2 (t=0 and 0.065 s) are replayed after 2.5 s and frame 3
        # (t=3.22 s) is not: the first flow's 6 alerts are written at SIGTERM.
        time.sleep(2.5)
        first.signal(signal.SIGTERM)
        self.assertEqual(first.wait(), 0, first.stderr)
        self.assertEqual(line_count(first.alerts_path), 6)
        self.assertEqual(first.stats["elasticsearch"]["spool"]["spooled"], 6)
        self.assertIn("event=drain_incomplete", first.stderr)

        double = self.double()
        second = self.run_sensor(HTTP_CAPTURE, HTTP_EVENT, double.url)
        self.assertEqual(second.process.returncode, 0, second.stderr)
        es = second.stats["elasticsearch"]
        self.assertEqual(es["spool"]["recovered"], 6)
        self.assertEqual(es["spool"]["spooled"], 0)
        ids = read_ids(second.alerts_path)
        self.assertEqual(len(ids), 6 + HTTP_ALERTS)
        self.assertDeliveredOnce(double, ids)

    def test_sigkill_then_restart_loses_and_duplicates_nothing(self):
        # Slow responses and small batches keep the sensor sending when it is killed.
        double = self.double("--slow", "1")
        first = self.start_sensor(DNS_CAPTURE, STIX_EVENT, double.url,
                          "--elasticsearch-batch-docs", "4")
        wait_for(lambda: line_count(first.alerts_path) == DNS_ALERTS, 60, "18 alert lines")
        wait_for(lambda: double.stats()["bulk_requests"] >= 2, 30, "two bulk requests")
        first.kill()
        self.assertLess(len(double.docs()), DNS_ALERTS)

        # A write cut by the crash: a record header announcing more bytes than follow.
        segments = sorted(glob.glob(os.path.join(first.alerts_path + ".spool", "*.seg")))
        with open(segments[-1], "ab") as f:
            f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00torn")

        double.fault(clear=True)
        second = self.run_sensor(HTTP_CAPTURE, HTTP_EVENT, double.url)
        self.assertEqual(second.process.returncode, 0, second.stderr)
        spool = second.stats["elasticsearch"]["spool"]
        self.assertGreater(spool["recovered"], 0)
        self.assertEqual(spool["corrupt_tails"], 1)
        self.assertEqual(spool["corrupt_bytes"], 12)
        self.assertEqual(spool["spooled"], 0)
        self.assertIn("event=corrupt_tail_truncated", second.stderr)
        ids = read_ids(second.alerts_path)
        self.assertEqual(len(ids), DNS_ALERTS + HTTP_ALERTS)
        self.assertDeliveredOnce(double, ids)

    def test_spool_in_use_rejected(self):
        absent = self.double("--down-at-start", "600")
        first = self.start_sensor(DNS_CAPTURE, STIX_EVENT, absent.url,
                          "--elasticsearch-drain-timeout", "10")
        wait_for(lambda: line_count(first.alerts_path) == DNS_ALERTS, 60, "18 alert lines")
        second = subprocess.run(
            [SENSOR, "replay", "--pcap", DNS_CAPTURE, "--misp", STIX_EVENT,
             "--alerts", os.path.join(self.work, "other.ndjson"),
             "--spool-dir", first.alerts_path + ".spool", "--elasticsearch", absent.url],
            capture_output=True, text=True, timeout=60, check=False)
        first.signal(signal.SIGTERM)
        first.wait()
        self.assertEqual(second.returncode, 1)
        self.assertIn("in use by another sensor process", second.stderr)


class Setup(EsTestCase):
    def test_key_file_readable_by_others_rejected(self):
        key = write_key_file(self.work, mode=0o644)
        result = subprocess.run(
            [SENSOR, "replay", "--pcap", DNS_CAPTURE, "--misp", STIX_EVENT,
             "--alerts", os.path.join(self.work, "alerts.ndjson"),
             "--elasticsearch", "http://127.0.0.1:9", "--elasticsearch-key-file", key],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn(key, result.stderr)
        self.assertIn("chmod 600", result.stderr)
        self.assertNotIn(API_KEY, result.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o644)

    def test_invalid_options_are_usage_errors(self):
        for extra in (["--elasticsearch", "localhost:9200"],
                      ["--elasticsearch", "http://127.0.0.1:9", "--elasticsearch-index", "A"],
                      ["--elasticsearch", "http://127.0.0.1:9", "--elasticsearch-max-tlp", "x"],
                      ["--spool-dir", self.work]):
            result = subprocess.run(
                [SENSOR, "replay", "--pcap", DNS_CAPTURE, "--misp", STIX_EVENT,
                 "--alerts", os.path.join(self.work, "alerts.ndjson"), *extra],
                capture_output=True, text=True, timeout=60, check=False)
            self.assertEqual(result.returncode, 2, extra)
            self.assertIn("sensor: ", result.stderr)

    def test_template_install(self):
        double = self.double()
        key = write_key_file(self.work)
        result = subprocess.run(
            [SENSOR, "es-template", "--elasticsearch", double.url,
             "--elasticsearch-key-file", key],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("sensor-alerts-*", result.stdout)
        stored = double.request("/_index_template/sensor-alerts",
                                headers={"Authorization": "ApiKey " + API_KEY})
        template = stored["index_templates"][0]["index_template"]
        self.assertEqual(template["index_patterns"], ["sensor-alerts-*"])
        properties = template["template"]["mappings"]["properties"]
        self.assertEqual(properties["source"]["properties"]["ip"]["type"], "ip")
        self.assertEqual(properties["@timestamp"]["type"], "date")

        # Without credentials the double returns 401, which the command reports.
        denied = subprocess.run(
            [SENSOR, "es-template", "--elasticsearch", double.url],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(denied.returncode, 1)
        self.assertIn("HTTP 401", denied.stderr)
        self.assertIn("security_exception", denied.stderr)

    def test_template_for_a_data_stream(self):
        double = self.double()
        key = write_key_file(self.work)
        result = subprocess.run(
            [SENSOR, "es-template", "--elasticsearch", double.url, "--elasticsearch-key-file",
             key, "--elasticsearch-index", "logs-sensor.alerts-default", "--data-stream",
             "--template-name", "logs-sensor"],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        stored = double.request("/_index_template/logs-sensor",
                                headers={"Authorization": "ApiKey " + API_KEY})
        template = stored["index_templates"][0]["index_template"]
        self.assertEqual(template["index_patterns"], ["logs-sensor.alerts-default"])
        self.assertEqual(template["data_stream"], {})


class TemplateCoversDocuments(EsTestCase):
    """The double rejects any field the installed template does not map, or maps with
    another type, so each alert shape below must fit the shipped template."""

    CASES = [
        # (capture, event, extra options, alerts expected)
        ("dns-a-aaaa-mx.pcap", "events/misp-stixtest-all-types.json",
         ["--dedup-window", "60"], 12),  # 6 alerts and 6 suppression summaries.
        ("dns-a-aaaa-mx.pcap", "crafted/names.json", [], None),
        ("tls12-sni-google.de.pcap", "crafted/names.json", [], None),
        ("quic-v1-sni-cirrus-ci.pcap", "crafted/names.json", [], None),
        ("http-get-bro.org.pcap", "crafted/names.json", [], None),
        ("vlan-qinqinq-http.pcap", "crafted/http-bro-org.json", [], HTTP_ALERTS),
        ("dns-v4v6-tcp-ipfrag.pcap", "crafted/dns-v6-asn.json",
         ["--geoip-asn", os.path.join(DATA, "mmdb", "GeoLite2-ASN-Test.mmdb")], 2),
        ("http-sqli-dvwa.pcapng", "crafted/dvwa-patterns.json", [], None),
    ]

    def test_every_alert_shape_is_mapped(self):
        double = self.double("--strict-mapping")
        key = write_key_file(self.work)
        installed = subprocess.run(
            [SENSOR, "es-template", "--elasticsearch", double.url,
             "--elasticsearch-key-file", key],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(installed.returncode, 0, installed.stderr)
        all_ids = []
        for capture, event, extra, expected in self.CASES:
            with self.subTest(capture=capture, event=event):
                work = tempfile.mkdtemp(dir=self.work)
                run = self.start_sensor(os.path.join(DATA, "pcap", capture),
                                        os.path.join(DATA, "misp", event), double.url, *extra,
                                        work=work, key_file=key)
                self.assertEqual(run.wait(), 0, run.stderr)
                ids = read_ids(run.alerts_path)
                self.assertGreater(len(ids), 0)
                if expected is not None:
                    self.assertEqual(len(ids), expected)
                self.assertEqual(dead_letters(run), [])
                self.assertEqual(run.stats["elasticsearch"]["dead_lettered"], 0)
                all_ids += ids
        self.assertEqual(double.stats()["rejected_ids"], {})
        self.assertDeliveredOnce(double, all_ids)


# http-sqli-dvwa.pcapng at 4x, with a small flow table so that sweeps find ended flows
# quickly. Its four connections start at 0, 23.1, 43.3 and 70.3 s (tshark -q -z
# conv,tcp), and the longest pause inside one is 10.19 s (tcp.stream and
# frame.time_relative), so a 12 s idle timeout never splits a connection. The first
# alert is written about 6 s in, then two after the 10 s alert delay of connections 2
# and 3 (about 9 and 14 s in), and the last at the end, 17.6 s in.
SPREAD_OUT_ALERTS = ["--speed", "4", "--idle-timeout", "12", "--flow-capacity", "64"]


class AlertFileRotation(EsTestCase):
    def rotated_files(self, directory=None):
        directory = directory or self.work
        return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                      if ROTATED.match(name))

    def test_size_rotation(self):
        run = self.run_sensor(DNS_CAPTURE, STIX_EVENT, None, "--alerts-rotate-size", "6000")
        self.assertEqual(run.process.returncode, 0, run.stderr)
        rotated = self.rotated_files()
        self.assertGreater(len(rotated), 1)
        ids = []
        for path in rotated + [run.alerts_path]:
            self.assertLessEqual(os.path.getsize(path), 6000, path)
            ids += read_ids(path)
        self.assertEqual(len(ids), DNS_ALERTS)
        self.assertEqual(len(set(ids)), DNS_ALERTS)
        self.assertEqual(run.stats["alerts"]["file_rotations"], len(rotated))

    def test_time_rotation(self):
        run = self.run_sensor(DVWA_CAPTURE, DVWA_EVENT, None, *SPREAD_OUT_ALERTS,
                              "--alerts-rotate-interval", "2")
        self.assertEqual(run.process.returncode, 0, run.stderr)
        rotated = self.rotated_files()
        self.assertGreaterEqual(len(rotated), 2)
        ids = []
        for path in rotated + [run.alerts_path]:
            ids += read_ids(path)
        self.assertEqual(len(ids), DVWA_ALERTS)
        self.assertEqual(len(set(ids)), DVWA_ALERTS)
        for path in rotated:
            self.assertGreater(len(read_ids(path)), 0, path)
        self.assertEqual(run.stats["alerts"]["file_rotations"], len(rotated))

    def test_sighup_reopens_after_move(self):
        run = self.start_sensor(DVWA_CAPTURE, DVWA_EVENT, None, *SPREAD_OUT_ALERTS)
        wait_for(lambda: line_count(run.alerts_path) == 1, 30, "the first alert line")
        moved = run.alerts_path + ".1"
        os.rename(run.alerts_path, moved)  # What logrotate does before its postrotate.
        run.signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(run.alerts_path), 5, "a new alert file")
        self.assertEqual(run.wait(), 0, run.stderr)
        self.assertEqual(len(read_ids(moved)), 1)
        self.assertEqual(len(read_ids(run.alerts_path)), DVWA_ALERTS - 1)
        self.assertEqual(len(set(read_ids(moved) + read_ids(run.alerts_path))), DVWA_ALERTS)
        self.assertEqual(run.stats["alerts"]["file_reopens"], 1)
        self.assertIn("event=alert_file_reopen", run.stderr)

    def test_removed_directory_retried(self):
        directory = os.path.join(self.work, "out")
        os.mkdir(directory)
        alerts = os.path.join(directory, "alerts.ndjson")
        run = self.start_sensor(DVWA_CAPTURE, DVWA_EVENT, None, *SPREAD_OUT_ALERTS,
                        alerts=alerts)
        wait_for(lambda: line_count(alerts) == 1, 30, "the first alert line")
        shutil.rmtree(directory)
        wait_for(lambda: "event=alert_file_write_failed" in run.stderr, 30,
                 "the write failure of the second alert to be reported")
        self.assertIn(alerts, run.stderr)
        os.mkdir(directory)
        self.assertEqual(run.wait(), 0, run.stderr)
        # The first alert went with the removed directory; the three later ones are here.
        ids = read_ids(alerts)
        self.assertEqual(len(ids), DVWA_ALERTS - 1, run.stderr)
        self.assertEqual(len(set(ids)), DVWA_ALERTS - 1)
        stats = run.stats["alerts"]
        self.assertGreaterEqual(stats["file_write_errors"], 1)
        self.assertEqual(stats["file_not_written"], 0)
        self.assertEqual(stats["file_rejected"], 0)
        self.assertEqual(stats["sink_errors"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

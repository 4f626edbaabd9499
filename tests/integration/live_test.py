#!/usr/bin/env python3
"""`sensor run` on DPDK virtual devices: several RX queues and workers, the start-up
self-check, the port's counters in the statistics, and a clean stop on SIGTERM or SIGINT.

net_pcap with two rx_pcap files gives a port with two RX queues, queue i reading file i.
It cannot be programmed with RSS, so the sensor must report that once and keep running. net_null
generates packets on every queue the application sets up and takes an RSS key.

Expected packet counts come from capinfos; the addresses of the DNS capture from tshark
(`tshark -r dns-a-aaaa-mx.pcap -Y ip.addr==8.8.8.8` lists all six packets) and the
indicator from the MISP event file, never from the sensor's own output.
"""

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
SENSORCTL = os.environ.get("SENSORCTL_BIN", "build/tools/sensorctl")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
DNS_CAPTURE = os.path.join(DATA, "pcap", "dns-a-aaaa-mx.pcap")
TLS_CAPTURE = os.path.join(DATA, "pcap", "tls12-sni-google.de.pcap")
STIX_EVENT = os.path.join(DATA, "misp", "events", "misp-stixtest-all-types.json")


def capinfos_packets(path):
    output = subprocess.run(["capinfos", "-M", "-c", path], capture_output=True, text=True,
                            check=True).stdout
    return int(re.search(r"Number of packets:\s+(\d+)", output).group(1))


def stix_ip_dst_values():
    """The ip-dst values of the MISP event that carry to_ids, at the top level or in
    objects."""
    with open(STIX_EVENT, encoding="utf-8") as f:
        event = json.load(f)["Event"]
    attributes = list(event.get("Attribute", []))
    for obj in event.get("Object", []):
        attributes.extend(obj.get("Attribute", []))
    return {a["value"] for a in attributes if a["type"] == "ip-dst" and a.get("to_ids")}


def allowed_cpus():
    return ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))


def eal(name, lcores, vdev):
    """EAL arguments for a virtual device: `lcores` lcores that float over the CPUs this
    test may use, so the test runs on a machine with fewer cores than lcores."""
    prefix = f"live-test-{os.getpid()}-{name}"
    return (f"--no-huge -m 256 --no-pci --file-prefix {prefix} "
            f"--lcores=(0-{lcores - 1})@({allowed_cpus()}) --vdev={vdev} --log-level=error")


class LiveSensor:
    """`sensor run` in a temporary directory, with a control socket and metrics."""

    def __init__(self, eal_arguments, workers, *extra):
        self.work = tempfile.TemporaryDirectory(prefix="live-test-")
        self.socket = os.path.join(self.work.name, "ctl.sock")
        self.alerts = os.path.join(self.work.name, "alerts.ndjson")
        self.stats_path = os.path.join(self.work.name, "stats.json")
        self.stdout_path = os.path.join(self.work.name, "stdout.txt")
        self.stderr_path = os.path.join(self.work.name, "stderr.txt")
        self.stdout_file = open(self.stdout_path, "w", encoding="utf-8")
        self.stderr_file = open(self.stderr_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [SENSOR, "run", "--eal", eal_arguments, "--port", "0", "--workers", str(workers),
             "--misp", STIX_EVENT, "--alerts", self.alerts, "--stats-json", self.stats_path,
             "--ctl-socket", self.socket, "--metrics", "127.0.0.1:0",
             "--state-dir", self.work.name, "--print-alerts", "0", *extra],
            stdout=self.stdout_file, stderr=self.stderr_file)

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8") as f:
            return f.read()

    def ctl(self, *arguments):
        return subprocess.run([SENSORCTL, "--socket", self.socket, *arguments],
                              capture_output=True, text=True, timeout=30, check=False)

    def stats(self):
        result = self.ctl("--json", "stats")
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)["result"]

    def wait_for(self, predicate, timeout=60):
        """Poll `stats` until `predicate` holds, and return the last stats."""
        deadline = time.monotonic() + timeout
        stats = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sensor exited early: {self.stderr()}")
            stats = self.stats() if os.path.exists(self.socket) else None
            if stats is not None and predicate(stats):
                return stats
            time.sleep(0.2)
        raise AssertionError(f"timed out; last stats {stats}; stderr {self.stderr()}")

    def metrics(self):
        match = re.search(r"event=listening address=(\S+)", self.stderr())
        with urllib.request.urlopen(f"http://{match.group(1)}/metrics", timeout=10) as reply:
            return reply.read().decode()

    def wait_for_metrics(self, line, timeout=30):
        """Poll the metrics page, rendered once a second, until it contains `line`."""
        deadline = time.monotonic() + timeout
        page = ""
        while time.monotonic() < deadline:
            page = self.metrics()
            if line in page:
                return page
            time.sleep(0.2)
        raise AssertionError(f"{line!r} not in the metrics page: {page}")

    def stop(self, signal_number=signal.SIGTERM):
        self.process.send_signal(signal_number)
        status = self.process.wait(timeout=120)
        self.stdout_file.close()
        self.stderr_file.close()
        return status

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stdout_file.close()
        self.stderr_file.close()
        self.work.cleanup()


class PcapTwoQueues(unittest.TestCase):
    """Two captures on two RX queues of one net_pcap port, two workers."""

    @classmethod
    def setUpClass(cls):
        cls.dns_packets = capinfos_packets(DNS_CAPTURE)
        cls.tls_packets = capinfos_packets(TLS_CAPTURE)
        cls.sensor = LiveSensor(
            eal("pcap", 3, f"net_pcap0,rx_pcap={DNS_CAPTURE},rx_pcap={TLS_CAPTURE}"), 2)
        total = cls.dns_packets + cls.tls_packets
        try:
            # The control loop reads the port's counters once a second.
            cls.live = cls.sensor.wait_for(lambda stats: stats["packets"] == total
                                           and stats["port"]["ipackets"] == total)
            cls.metrics = cls.sensor.wait_for_metrics(f"sensor_port_packets_total {total}\n")
            cls.ctl_text = cls.sensor.ctl("stats").stdout
        finally:
            cls.status = cls.sensor.stop(signal.SIGTERM)
        with open(cls.sensor.stats_path, encoding="utf-8") as f:
            cls.final = json.load(f)
        with open(cls.sensor.alerts, encoding="utf-8") as f:
            cls.alert_documents = [json.loads(line) for line in f]
        cls.stdout = cls.sensor.stdout()
        cls.stderr = cls.sensor.stderr()

    @classmethod
    def tearDownClass(cls):
        cls.sensor.close()

    def test_exits_zero_on_sigterm(self):
        self.assertEqual(self.status, 0, self.stderr)

    def test_each_queue_counts_its_capture(self):
        queues = self.final["port"]["queues"]
        self.assertEqual(len(queues), 2)
        self.assertEqual(queues[0]["ipackets"], self.dns_packets)
        self.assertEqual(queues[1]["ipackets"], self.tls_packets)
        self.assertEqual(self.final["port"]["ipackets"], self.dns_packets + self.tls_packets)

    def test_each_worker_reads_its_queue(self):
        workers = self.final["workers"]
        self.assertEqual(len(workers), 2)
        self.assertEqual(workers[0]["rx_packets"], self.dns_packets)
        self.assertEqual(workers[1]["rx_packets"], self.tls_packets)

    def test_nic_counters_in_final_stats(self):
        port = self.final["port"]
        for counter in ("imissed", "ierrors", "rx_nombuf"):
            self.assertEqual(port[counter], 0, counter)
        self.assertIn("imissed", self.final["drops"])

    def test_nic_counters_in_live_stats(self):
        port = self.live["port"]
        self.assertEqual([q["ipackets"] for q in port["queues"]],
                         [self.dns_packets, self.tls_packets])
        for counter in ("imissed", "ierrors", "rx_nombuf"):
            self.assertIn(counter, port)
            self.assertIn(counter, self.live["drops"])
        self.assertIn(f"per RX queue 0={self.dns_packets} 1={self.tls_packets}", self.ctl_text)

    def test_queue_counters_in_metrics(self):
        self.assertIn(f'sensor_port_queue_packets_total{{queue="0"}} {self.dns_packets}',
                      self.metrics)
        self.assertIn(f'sensor_port_queue_packets_total{{queue="1"}} {self.tls_packets}',
                      self.metrics)
        self.assertIn('sensor_drops_total{reason="imissed"} 0', self.metrics)

    def test_alert_for_known_indicator(self):
        self.assertIn("8.8.8.8", stix_ip_dst_values())
        matched = [d for d in self.alert_documents
                   if d["misp"]["attribute"]["type"] == "ip-dst"
                   and d["destination"]["ip"] == "8.8.8.8"]
        self.assertTrue(matched, "no ip-dst alert for 8.8.8.8")
        self.assertEqual(self.final["alerts"]["written"], len(self.alert_documents))

    def test_self_check_map_printed(self):
        self.assertRegex(self.stdout, r"self-check: port 0 net_pcap \(net_pcap0\), .*"
                                      r"RX queues 2 \(max 2\)")
        self.assertRegex(self.stdout, r"self-check: queue 0 -> worker 0 on lcore 1, CPU ")
        self.assertRegex(self.stdout, r"self-check: queue 1 -> worker 1 on lcore 2, CPU ")
        self.assertIn("self-check: mempool size: RX queues 2 x descriptors 1024", self.stdout)

    def test_missing_rss_reported_once(self):
        self.assertIn("self-check: warning rss_not_configurable: port 0 (net_pcap)",
                      self.stdout)
        self.assertIn("self-check: warning no_hugepages:", self.stdout)
        self.assertEqual(self.stderr.count("event=no_rss"), 1, self.stderr)


class NullDeviceQueues(unittest.TestCase):
    """net_null with three RX queues for a few seconds, then SIGINT."""

    def test_every_queue_feeds_its_worker(self):
        sensor = LiveSensor(eal("null", 4, "net_null0"), 3)
        self.addCleanup(sensor.close)
        sensor.wait_for(lambda stats: all(w["packets"] > 0 for w in stats["workers"]))
        time.sleep(1)
        self.assertEqual(sensor.stop(signal.SIGINT), 0, sensor.stderr())
        with open(sensor.stats_path, encoding="utf-8") as f:
            final = json.load(f)
        queues = final["port"]["queues"]
        self.assertEqual(len(queues), 3)
        # A worker processes the burst in hand before it stops, so it has taken every
        # packet that the device counted for its queue.
        for index, worker in enumerate(final["workers"]):
            self.assertGreater(worker["rx_packets"], 0, index)
            self.assertEqual(worker["rx_packets"], queues[index]["ipackets"], index)
        self.assertEqual(final["mbufs_in_use_at_exit"], 0)
        stdout = sensor.stdout()
        self.assertIn("RSS symmetric key", stdout)
        self.assertNotIn("rss_not", stdout)
        self.assertRegex(stdout, r"self-check: queue 2 -> worker 2 on lcore 3")


class RingDeviceWithoutRss(unittest.TestCase):
    """net_ring takes several RX queues but no RSS configuration: the sensor runs anyway."""

    def test_runs_and_stops_without_rss(self):
        sensor = LiveSensor(eal("ring", 3, "net_ring0"), 2)
        self.addCleanup(sensor.close)
        stats = sensor.wait_for(lambda stats: len(stats["port"]["queues"]) == 2)
        self.assertEqual(stats["packets"], 0)
        self.assertEqual(sensor.stop(signal.SIGTERM), 0, sensor.stderr())
        stdout = sensor.stdout()
        self.assertEqual(stdout.count("self-check: warning rss_not_configurable: port 0 "
                                      "(net_ring)"), 1, stdout)
        self.assertEqual(sensor.stderr().count("event=no_rss"), 1, sensor.stderr())
        with open(sensor.stats_path, encoding="utf-8") as f:
            self.assertEqual(len(json.load(f)["port"]["queues"]), 2)


class RunMistakes(unittest.TestCase):
    def run_sensor(self, eal_arguments, *arguments):
        with tempfile.TemporaryDirectory(prefix="live-test-") as work:
            return subprocess.run(
                [SENSOR, "run", "--eal", eal_arguments, "--misp", STIX_EVENT, "--alerts",
                 os.path.join(work, "alerts.ndjson"), "--no-ctl-socket", "--state-dir", work,
                 *arguments],
                capture_output=True, text=True, timeout=120, check=False)

    def test_more_workers_than_queues(self):
        result = self.run_sensor(
            eal("queues", 4, f"net_pcap0,rx_pcap={DNS_CAPTURE},rx_pcap={TLS_CAPTURE}"),
            "--workers", "3")
        self.assertEqual(result.returncode, 1)
        self.assertIn("port 0 (net_pcap) has at most 2 RX queues but 3 workers need one "
                      "each: lower --workers to 2", result.stderr)

    def test_port_that_does_not_exist(self):
        result = self.run_sensor(eal("port", 2, "net_null0"), "--port", "5")
        self.assertEqual(result.returncode, 1)
        self.assertIn("DPDK port 5 does not exist; EAL found 1 port: check --port", result.stderr)

    def test_fewer_lcores_than_workers(self):
        result = self.run_sensor(eal("lcores", 2, "net_null0"), "--workers", "2")
        self.assertEqual(result.returncode, 1)
        self.assertIn("2 lcores besides the main one are needed for 2 workers, but EAL has 1",
                      result.stderr)


class SelfCheckCommand(unittest.TestCase):
    def test_report_and_status_from_config_file(self):
        with tempfile.TemporaryDirectory(prefix="live-test-") as work:
            config = os.path.join(work, "sensor.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(f'eal: "{eal("self-check", 3, "net_null0")}"\n'
                        "workers: 2\nmbufs: 100\n"
                        f"misp: {STIX_EVENT}\n")
            result = subprocess.run([SENSOR, "self-check", "--config", config],
                                    capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("self-check: port 0 net_null (net_null0)", result.stdout)
        self.assertIn("link not started", result.stdout)
        self.assertIn("self-check: queue 1 -> worker 1 on lcore 2", result.stdout)
        # 2 x 1024 descriptors + 3 x (256 + 64) + 1024 in flight.
        self.assertIn("self-check: warning mempool_too_small: mempool sensor_mbufs_p0 has 100 "
                      "mbufs but its RX rings, caches and bursts can hold 4032", result.stdout)
        self.assertIn("self-check: warning no_hugepages:", result.stdout)
        self.assertNotIn("indicators:", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

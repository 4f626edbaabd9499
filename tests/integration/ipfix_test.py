#!/usr/bin/env python3
"""End-to-end tests of IPFIX flow export: the built sensor replays real captures with
--ipfix, and real collectors read what it sends.

- tshark decodes the UDP messages that a test socket received (written to a pcap);
- nfcapd (nfdump package) stores them and nfdump reports the totals;
- nfacctd (pmacct package) prints each flow to a CSV file through its print plugin;
- a TCP listener in this file reads the TCP export and parses it per RFC 7011.

Every collector must report the flow, packet and byte totals of the sensor's statistics,
and the packet and byte totals must equal what tshark counts in the capture. The sensor
counts IP bytes (IPv4 total length, IPv6 payload length plus the 40-byte header), as
IPFIX's octetDeltaCount does, so the expected bytes are tshark's sums of ip.len and
ipv6.plen + 40, not frame lengths. All collectors listen on loopback ports picked at
random and are stopped by the tests.
"""

import csv
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay_test import misp, pcap, run_replay  # noqa: E402

TSHARK = shutil.which("tshark")
NFCAPD = shutil.which("nfcapd")
NFDUMP = shutil.which("nfdump")
NFACCTD = shutil.which("nfacctd") or (
    "/usr/sbin/nfacctd" if os.path.exists("/usr/sbin/nfacctd") else None)

INTEL = misp("crafted/http-bro-org.json")
DOMAIN = 42  # --ipfix-observation-domain of every run.

# Captures with their IP packet and IP byte totals, all from tshark 4.0:
#   tshark -r FILE -T fields -e ip.len -e ipv6.plen
# summing ip.len, or ipv6.plen + 40, per frame; every frame of these files is IP
# (capinfos -c gives the same packet counts).
CAPTURES = {
    # 6 IPv4/UDP DNS frames: 3 queries and their answers.
    "dns-a-aaaa-mx.pcap": (6, 730),
    # 14 IPv4/TCP frames of one HTTP connection.
    "http-get-bro.org.pcap": (14, 5891),
    # 46 IPv4 and 43 IPv6 frames, UDP and TCP DNS, with IPv4 fragments.
    "dns-v4v6-tcp-ipfrag.pcap": (89, 35597),
    # 38 IPv6 frames with extension headers, HTTP and Neighbor Discovery.
    "ipv6-exthdr-http.pcap": (38, 2876),
    # The HTTP connection of http-get-bro.org.pcap under three VLAN tags (30, 20, 10).
    "vlan-qinqinq-http.pcap": (14, 5891),
}


def loopback_available(family):
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return True
    except OSError:
        return False


def free_port(family=socket.AF_INET, kind=socket.SOCK_DGRAM):
    """A port that was free a moment ago, for collectors that bind it themselves."""
    with socket.socket(family, kind) as probe:
        probe.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_udp_listener(port, timeout=10):
    """Waits until some socket is bound to the UDP `port`, as /proc/net/udp{,6} lists."""
    suffix = ":%04X" % port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                with open(table, encoding="ascii") as f:
                    next(f)
                    if any(line.split()[1].endswith(suffix) for line in f):
                        return True
            except OSError:
                continue
        time.sleep(0.05)
    return False


def stop(process, stop_signal=signal.SIGTERM):
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class UdpReceiver:
    """Receives datagrams on a random loopback port in a background thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.datagrams.append(self.sock.recv(65535))
            except socket.timeout:
                continue

    def close(self):
        time.sleep(0.3)  # Datagrams still in the socket buffer.
        self.running = False
        self.thread.join()
        self.sock.close()

    def write_pcap(self, path):
        """Writes the datagrams as IPv4/UDP packets (link type RAW) for tshark."""
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
        for index, payload in enumerate(self.datagrams):
            udp = struct.pack(">HHHH", 40000, self.port, 8 + len(payload), 0) + payload
            header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index & 0xFFFF, 0,
                                 64, 17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            header = header[:10] + struct.pack(">H", ipv4_checksum(header)) + header[12:]
            packet = header + udp
            out.append(struct.pack("<IIII", 1_700_000_000 + index, 0, len(packet),
                                   len(packet)) + packet)
        with open(path, "wb") as f:
            f.write(b"".join(out))


def ipv4_checksum(header):
    total = sum(struct.unpack(">%dH" % (len(header) // 2), header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def parse_ipfix_stream(stream):
    """Splits a TCP byte stream into IPFIX messages and parses them per RFC 7011.

    Returns a list of dicts: sequence, domain, template_records, and records (each a dict
    from (enterprise, element id) to an integer or bytes)."""
    messages = []
    templates = {}
    offset = 0
    while offset < len(stream):
        version, length, _, sequence, domain = struct.unpack(">HHIII",
                                                             stream[offset:offset + 16])
        if version != 10 or length < 16 or offset + length > len(stream):
            raise ValueError("bad message header at byte %d" % offset)
        body = stream[offset + 16:offset + length]
        offset += length
        message = {"sequence": sequence, "domain": domain, "template_records": 0,
                   "records": []}
        position = 0
        while position < len(body):
            set_id, set_length = struct.unpack(">HH", body[position:position + 4])
            if set_length < 4 or position + set_length > len(body):
                raise ValueError("bad set length")
            content = body[position + 4:position + set_length]
            position += set_length
            if set_id == 2:
                cursor = 0
                while cursor + 4 <= len(content):
                    template_id, count = struct.unpack(">HH", content[cursor:cursor + 4])
                    cursor += 4
                    fields = []
                    for _ in range(count):
                        raw_id, field_length = struct.unpack(">HH", content[cursor:cursor + 4])
                        cursor += 4
                        enterprise = 0
                        if raw_id & 0x8000:
                            enterprise = struct.unpack(">I", content[cursor:cursor + 4])[0]
                            cursor += 4
                        fields.append((enterprise, raw_id & 0x7FFF, field_length))
                    templates[template_id] = fields
                    message["template_records"] += 1
            elif set_id >= 256:
                fields = templates[set_id]
                record_length = sum(f[2] for f in fields)
                cursor = 0
                while cursor + record_length <= len(content):
                    record = {}
                    for enterprise, element, field_length in fields:
                        raw = content[cursor:cursor + field_length]
                        record[(enterprise, element)] = (
                            raw if element in (8, 12, 27, 28) and enterprise == 0
                            else int.from_bytes(raw, "big"))
                        cursor += field_length
                    message["records"].append(record)
        messages.append(message)
    return messages


REVERSE_PEN = 29305  # RFC 5103.
OCTETS, PACKETS = 1, 2  # octetDeltaCount, packetDeltaCount.


class IpfixTestCase(unittest.TestCase):
    def assertExportedAll(self, replay, packets, octets):
        self.assertEqual(replay.returncode, 0, replay.stderr)
        ipfix = replay.stats["ipfix"]
        self.assertEqual(ipfix["records_dropped"], 0)
        self.assertEqual(ipfix["send_errors"], 0)
        self.assertEqual(ipfix["records_exported"], ipfix["records_received"])
        self.assertEqual(ipfix["packets_exported"], packets)
        self.assertEqual(ipfix["octets_exported"], octets)
        self.assertEqual(replay.stats["drops"]["flow_record_ring_full"], 0)
        self.assertEqual(ipfix["observation_domain"], DOMAIN)


@unittest.skipUnless(TSHARK, "tshark is not installed (tools/install-deps.sh)")
class TsharkDecodesUdpExport(IpfixTestCase):
    """tshark decodes every message the sensor sent, without a warning."""

    def export(self, capture):
        receiver = UdpReceiver()
        try:
            replay = run_replay(pcap(capture), INTEL, "--ipfix",
                                "udp://127.0.0.1:%d" % receiver.port,
                                "--ipfix-observation-domain", str(DOMAIN))
        finally:
            receiver.close()
        return replay, receiver

    def decode(self, receiver, *fields):
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "export.pcap")
            receiver.write_pcap(path)
            decode_as = "udp.port==%d,cflow" % receiver.port
            rows = subprocess.run(
                [TSHARK, "-r", path, "-d", decode_as, "-T", "fields", "-E", "occurrence=a",
                 "-e", "_ws.malformed", "-e", "_ws.expert", *sum((["-e", f] for f in fields),
                                                                   [])],
                capture_output=True, text=True, check=True, timeout=60).stdout
            expert = subprocess.run(
                [TSHARK, "-r", path, "-d", decode_as, "-q", "-z", "expert"],
                capture_output=True, text=True, check=True, timeout=60).stdout
        return [line.split("\t") for line in rows.splitlines()], expert

    def test_captures(self):
        for capture, (packets, octets) in CAPTURES.items():
            with self.subTest(capture=capture):
                replay, receiver = self.export(capture)
                self.assertExportedAll(replay, packets, octets)
                self.assertEqual(len(receiver.datagrams), replay.stats["ipfix"]["messages"])
                rows, expert = self.decode(receiver, "cflow.od_id", "cflow.sequence",
                                           "cflow.flow_id", "cflow.packets", "cflow.octets")
                self.assertEqual(expert.strip(), "", expert)
                records = 0
                total_packets = 0
                total_octets = 0
                for malformed, expert_info, domain, sequence, flow_ids, pkts, octs in rows:
                    self.assertEqual(malformed, "")
                    self.assertEqual(expert_info, "")
                    self.assertEqual(int(domain), DOMAIN)
                    # RFC 7011: the Data Records sent before this message.
                    self.assertEqual(int(sequence), records)
                    records += len(flow_ids.split(","))
                    # Forward and reverse (RFC 5103) counters of every record.
                    total_packets += sum(int(v) for v in pkts.split(","))
                    total_octets += sum(int(v) for v in octs.split(","))
                self.assertEqual(records, replay.stats["ipfix"]["records_exported"])
                self.assertEqual(total_packets, packets)
                self.assertEqual(total_octets, octets)

    def test_flow_fields(self):
        # tshark on http-get-bro.org.pcap: 141.142.228.5:59856 -> 192.150.187.43:80, the
        # client sends 7 frames (512 IP bytes) and the server 7 (5379), both with SYN,
        # ACK, PSH and FIN seen (tcp.flags), and FIN from both sides ends the flow.
        replay, receiver = self.export("http-get-bro.org.pcap")
        rows, _ = self.decode(receiver, "cflow.srcaddr", "cflow.dstaddr", "cflow.srcport",
                              "cflow.dstport", "cflow.protocol", "cflow.octets",
                              "cflow.packets", "cflow.tcpflags", "cflow.flow_end_reason",
                              "cflow.ip_version")
        self.assertEqual(len(rows), 1)
        (_, _, src, dst, sport, dport, proto, octs, pkts, flags, reason,
         version) = rows[0]
        self.assertEqual(src, "141.142.228.5")
        self.assertEqual(dst, "192.150.187.43")
        self.assertEqual(sport, "59856")
        self.assertEqual(dport, "80")
        self.assertEqual(proto, "6")
        self.assertEqual(octs, "512,5379")
        self.assertEqual(pkts, "7,7")
        self.assertEqual(flags, "0x001b,0x001b")
        self.assertEqual(reason, "3")  # endOfFlowDetected
        self.assertEqual(version, "4")

    def test_vlan_ids(self):
        # tshark -e vlan.id on vlan-qinqinq-http.pcap: tags 30, 20 and 10 on every frame;
        # the outer one is vlanId, the innermost one dot1qCustomerVlanId.
        replay, receiver = self.export("vlan-qinqinq-http.pcap")
        rows, _ = self.decode(receiver, "cflow.vlanid", "cflow.dot1q_customer_vlan_id")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][2], "30")
        self.assertEqual(rows[0][3], "10")


@unittest.skipUnless(NFCAPD and NFDUMP, "nfdump is not installed (tools/install-deps.sh)")
class NfdumpReadsUdpExport(IpfixTestCase):
    """nfcapd stores the export; nfdump's summary gives the same totals."""

    def export(self, capture, family=socket.AF_INET, *extra):
        with tempfile.TemporaryDirectory() as work:
            port = free_port(family)
            host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
            command = [NFCAPD, "-b", host, "-p", str(port), "-w", work]
            if family == socket.AF_INET6:
                command.append("-6")
            log_path = os.path.join(work, "nfcapd.log")
            with open(log_path, "w", encoding="utf-8") as log_file:
                collector = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            try:
                self.assertTrue(wait_for_udp_listener(port), "nfcapd did not start")
                url = ("udp://[::1]:%d" if family == socket.AF_INET6
                       else "udp://127.0.0.1:%d") % port
                replay = run_replay(pcap(capture), INTEL, "--ipfix", url,
                                    "--ipfix-observation-domain", str(DOMAIN), *extra)
                time.sleep(0.5)
            finally:
                stop(collector)  # nfcapd writes its current file on SIGTERM.
            with open(log_path, encoding="utf-8") as log_file:
                log = log_file.read()
            os.remove(log_path)
            summary = subprocess.run([NFDUMP, "-R", work, "-o", "csv"], capture_output=True,
                                     text=True, check=True, timeout=60).stdout
        # The csv output ends with "Summary", the column names, then the totals.
        lines = summary.strip().splitlines()
        self.assertEqual(lines[-3], "Summary", summary)
        totals = dict(zip(lines[-2].split(","), (int(v) for v in lines[-1].split(","))))
        return replay, totals, log

    def test_captures(self):
        for capture, (packets, octets) in CAPTURES.items():
            with self.subTest(capture=capture):
                replay, totals, log = self.export(capture)
                self.assertExportedAll(replay, packets, octets)
                self.assertEqual(totals["flows"], replay.stats["ipfix"]["records_exported"])
                self.assertEqual(totals["packets"], packets)
                self.assertEqual(totals["bytes"], octets)
                self.assertIn("Sequence Errors: 0", log)

    @unittest.skipUnless(loopback_available(socket.AF_INET6), "no IPv6 loopback")
    def test_export_over_ipv6(self):
        packets, octets = CAPTURES["dns-v4v6-tcp-ipfrag.pcap"]
        replay, totals, _ = self.export("dns-v4v6-tcp-ipfrag.pcap", socket.AF_INET6)
        self.assertExportedAll(replay, packets, octets)
        self.assertEqual(totals["flows"], replay.stats["ipfix"]["records_exported"])
        self.assertEqual(totals["packets"], packets)
        self.assertEqual(totals["bytes"], octets)

    def test_active_timeout_splits_flow(self):
        # tshark -T fields -e frame.time_relative on http-get-bro.org.pcap: frames at
        # 0, 0.0697, 0.0700, 0.0702, 0.1392, 0.1402 ... 0.1425, 0.2115 and 0.2116 s. With
        # a 0.05 s active timeout, periods start at frames 1, 2, 5 and 13: 4 records of
        # 1, 3, 8 and 2 packets, whose counters still add up to the whole flow.
        packets, octets = CAPTURES["http-get-bro.org.pcap"]
        replay, totals, _ = self.export("http-get-bro.org.pcap", socket.AF_INET,
                                        "--active-timeout", "0.05")
        self.assertExportedAll(replay, packets, octets)
        self.assertEqual(replay.stats["ipfix"]["records_exported"], 4)
        self.assertEqual(totals["flows"], 4)
        self.assertEqual(totals["packets"], packets)
        self.assertEqual(totals["bytes"], octets)
        # Each alert is written with the first flow record after its match, and carries
        # the flow's counts from its start. Frame 1 matches three attributes, written
        # with the record sent at frame 2 (1 packet). The server's address attribute
        # matches at frame 2 and is written with the record sent at frame 5 (4 packets).
        self.assertEqual(len(replay.alerts), 4)
        server = replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a17")
        self.assertEqual(len(server), 1)
        self.assertEqual(server[0]["network"]["packets"], 4)
        for alert in replay.alerts:
            if alert is not server[0]:
                self.assertEqual(alert["network"]["packets"], 1)


PMACCT_PRIMITIVES = """\
name=flow_id field_type=148 len=8 semantics=u_int
name=rev_octets field_type=29305:1 len=8 semantics=u_int
name=rev_packets field_type=29305:2 len=8 semantics=u_int
name=alert_count field_type=32473:1001 len=4 semantics=u_int
"""

# One output row per record: flow_id and timestamp_start tell records apart.
PMACCT_AGGREGATE = ", ".join([
    "src_host", "dst_host", "src_port", "dst_port", "proto", "timestamp_start", "flow_id",
    "rev_octets", "rev_packets", "alert_count"])

PMACCT_CONFIG = """\
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
aggregate_primitives: {primitives}
plugins: print[flows]
aggregate[flows]: {aggregate}
print_output[flows]: csv
print_output_file[flows]: {output}
print_output_file_append[flows]: true
print_refresh_time[flows]: 1
"""


@unittest.skipUnless(NFACCTD, "pmacct is not installed (tools/install-deps.sh)")
class NfacctdReadsUdpExport(IpfixTestCase):
    """nfacctd prints each flow; its reverse counters come from RFC 5103 elements,
    declared as custom primitives since pmacct does not map them itself."""

    def export(self, capture):
        with tempfile.TemporaryDirectory() as work:
            port = free_port()
            primitives = os.path.join(work, "primitives.lst")
            output = os.path.join(work, "flows.csv")
            config = os.path.join(work, "nfacctd.conf")
            with open(primitives, "w", encoding="utf-8") as f:
                f.write(PMACCT_PRIMITIVES)
            with open(config, "w", encoding="utf-8") as f:
                f.write(PMACCT_CONFIG.format(port=port, primitives=primitives, output=output,
                                             aggregate=PMACCT_AGGREGATE))
            with open(os.path.join(work, "nfacctd.log"), "w", encoding="utf-8") as log_file:
                collector = subprocess.Popen([NFACCTD, "-f", config], stdout=log_file,
                                             stderr=subprocess.STDOUT)
            try:
                self.assertTrue(wait_for_udp_listener(port), "nfacctd did not start")
                replay = run_replay(pcap(capture), INTEL, "--ipfix",
                                    "udp://127.0.0.1:%d" % port,
                                    "--ipfix-observation-domain", str(DOMAIN))
                expected = replay.stats["ipfix"]["records_exported"] if replay.stats else 0
                rows = []
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    rows = self.read_rows(output)
                    if len(rows) >= expected:
                        break
                    time.sleep(0.2)
            finally:
                # nfacctd 1.7.7 in the foreground keeps running after SIGTERM, but SIGINT stops it.
                stop(collector, signal.SIGINT)
            rows = self.read_rows(output)
        return replay, rows

    @staticmethod
    def read_rows(path):
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [row for row in csv.DictReader(f) if row.get("SRC_IP") != "SRC_IP"]

    def test_captures(self):
        for capture, (packets, octets) in CAPTURES.items():
            with self.subTest(capture=capture):
                replay, rows = self.export(capture)
                self.assertExportedAll(replay, packets, octets)
                self.assertEqual(len(rows), replay.stats["ipfix"]["records_exported"])
                self.assertEqual(
                    sum(int(r["PACKETS"]) + int(r["rev_packets"]) for r in rows), packets)
                self.assertEqual(
                    sum(int(r["BYTES"]) + int(r["rev_octets"]) for r in rows), octets)

    def test_alert_count_element(self):
        # http-bro-org.json raises 4 alerts on the single flow of http-get-bro.org.pcap
        # (see replay_test.py), which the enterprise element alertTotalCount carries.
        replay, rows = self.export("http-get-bro.org.pcap")
        self.assertEqual(len(replay.alerts), 4)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["alert_count"], "4")


class TcpListener:
    """Accepts one IPFIX connection on a random loopback port and reads it to the end."""

    def __init__(self, family=socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.stream = b""
        self.connections = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            connection, _ = self.sock.accept()
        except socket.timeout:
            return
        self.connections += 1
        with connection:
            connection.settimeout(30)
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                self.stream += data

    def close(self):
        self.thread.join(timeout=40)
        self.sock.close()


class TcpExport(IpfixTestCase):
    def test_tcp_export_parsed_per_rfc7011(self):
        packets, octets = CAPTURES["dns-v4v6-tcp-ipfrag.pcap"]
        listener = TcpListener()
        try:
            replay = run_replay(pcap("dns-v4v6-tcp-ipfrag.pcap"), INTEL, "--ipfix",
                                "tcp://127.0.0.1:%d" % listener.port,
                                "--ipfix-observation-domain", str(DOMAIN))
        finally:
            listener.close()
        self.assertExportedAll(replay, packets, octets)
        self.assertEqual(replay.stats["ipfix"]["connections"], 1)
        self.assertEqual(len(listener.stream), replay.stats["ipfix"]["bytes"])
        messages = parse_ipfix_stream(listener.stream)
        self.assertEqual(len(messages), replay.stats["ipfix"]["messages"])
        # Templates once per connection, in the first message.
        self.assertEqual([m["template_records"] for m in messages],
                         [2] + [0] * (len(messages) - 1))
        records = 0
        total_packets = 0
        total_octets = 0
        for message in messages:
            self.assertEqual(message["domain"], DOMAIN)
            self.assertEqual(message["sequence"], records)
            records += len(message["records"])
            for record in message["records"]:
                total_packets += record[(0, PACKETS)] + record[(REVERSE_PEN, PACKETS)]
                total_octets += record[(0, OCTETS)] + record[(REVERSE_PEN, OCTETS)]
        self.assertEqual(records, replay.stats["ipfix"]["records_exported"])
        self.assertEqual(total_packets, packets)
        self.assertEqual(total_octets, octets)

    def test_missing_collector_counted_not_silent(self):
        # Nothing listens: the sensor retries for its drain timeout, then reports every
        # record it could not export.
        port = free_port(kind=socket.SOCK_STREAM)
        replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), INTEL, "--ipfix",
                            "tcp://127.0.0.1:%d" % port, timeout=120)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        ipfix = replay.stats["ipfix"]
        # tshark -q -z conv,udp: 3 conversations, one record each.
        self.assertEqual(ipfix["records_received"], 3)
        self.assertEqual(ipfix["records_exported"], 0)
        self.assertEqual(ipfix["records_dropped"], 3)
        self.assertEqual(ipfix["records_dropped_by_reason"]["at_exit"], 3)
        self.assertGreaterEqual(ipfix["connect_failures"], 1)
        self.assertIn("3 of 3 flow records were not exported", replay.stderr)


class CommandLine(unittest.TestCase):
    def test_invalid_urls_exit_2_with_one_line(self):
        for url in ("http://127.0.0.1:4739", "udp://127.0.0.1:0", "127.0.0.1:4739",
                    "udp://[::1:4739", "tcp://host:4739/path"):
            with self.subTest(url=url):
                replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), INTEL, "--ipfix", url,
                                    timeout=60)
                self.assertEqual(replay.returncode, 2, replay.stderr)
                lines = replay.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, replay.stderr)
                self.assertIn(url, lines[0])
                self.assertIn("udp://HOST:PORT", lines[0])

    def test_without_ipfix_no_section(self):
        replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), INTEL)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertNotIn("ipfix", replay.stats)


if __name__ == "__main__":
    unittest.main(verbosity=2)

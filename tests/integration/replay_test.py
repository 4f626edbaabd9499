#!/usr/bin/env python3
"""End-to-end tests: the built sensor replays real captures against MISP events.

Expected numbers come from tshark's reading of the same captures (the commands are in
the comments) or from the MISP files themselves, never from the sensor's own output.
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SENSOR = os.environ.get("SENSOR_BIN", "build/sensor/sensor")
DATA = os.environ.get("SENSOR_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))


def pcap(name):
    return os.path.join(DATA, "pcap", name)


def misp(name):
    return os.path.join(DATA, "misp", name)


class Replay:
    """One finished replay: exit status, console output, alerts and statistics."""

    def __init__(self, returncode, stdout, stderr, alerts, stats):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.alerts = alerts
        self.stats = stats

    def alerts_for(self, attribute_uuid):
        return [a for a in self.alerts if a["misp"]["attribute"]["uuid"] == attribute_uuid]


def run_replay(capture, intel, *extra, timeout=120):
    with tempfile.TemporaryDirectory() as work:
        alerts_path = os.path.join(work, "alerts.ndjson")
        stats_path = os.path.join(work, "stats.json")
        result = subprocess.run(
            [SENSOR, "replay", "--pcap", capture, "--misp", intel, "--alerts", alerts_path,
             "--stats-json", stats_path, *extra],
            capture_output=True, text=True, timeout=timeout, check=False)
        alerts = []
        if os.path.exists(alerts_path):
            with open(alerts_path, encoding="utf-8") as f:
                alerts = [json.loads(line) for line in f]
        stats = None
        if os.path.exists(stats_path):
            with open(stats_path, encoding="utf-8") as f:
                stats = json.load(f)
        return Replay(result.returncode, result.stdout, result.stderr, alerts, stats)


class ReplayTestCase(unittest.TestCase):
    def assertCleanExit(self, replay):
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertIsNotNone(replay.stats)
        self.assertEqual(replay.stats["mbufs_in_use_at_exit"], 0)
        self.assertEqual(replay.stats["drops"]["alert_ring_full"], 0)
        self.assertEqual(replay.stats["drops"]["flow_record_ring_full"], 0)
        self.assertEqual(replay.stats["alerts"]["without_flow_counts"], 0)


class DnsAgainstMispStixEvent(ReplayTestCase):
    """dns-a-aaaa-mx.pcap against MISP's own STIX test event (real MISP data)."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("dns-a-aaaa-mx.pcap"),
                                misp("events/misp-stixtest-all-types.json"))

    def test_exits_cleanly(self):
        self.assertCleanExit(self.replay)

    def test_packet_counts(self):
        # capinfos -c: 6 packets; tshark -Y ip: 6 IPv4 packets.
        self.assertEqual(self.replay.stats["packets"], 6)
        self.assertEqual(self.replay.stats["counters"]["ipv4_packets"], 6)
        self.assertEqual(self.replay.stats["capture"]["packets"], 6)

    def test_indicator_counts_from_the_event(self):
        # The event holds to_ids address attributes: ip-src 1.2.3.4 (top level and in 3
        # objects) plus ip-src 8.8.8.8 in an asn object = 6 ip-src; ip-dst 8.8.8.8 in 4
        # objects = 4 ip-dst; one ip-dst|port and one domain|ip.
        loaded = self.replay.stats["indicators"]["loaded_by_type"]
        self.assertEqual(loaded["ip-src"], 6)
        self.assertEqual(loaded["ip-dst"], 4)
        self.assertEqual(loaded["ip-dst|port"], 1)
        self.assertEqual(loaded["domain|ip"], 1)

    def test_one_alert_per_flow_and_attribute(self):
        # tshark -q -z conv,udp: 3 conversations between 10.16.1.11 and 8.8.8.8. Each
        # matches the 4 ip-dst 8.8.8.8 attributes (queries), the ip-src 8.8.8.8 attribute
        # (answers) and, through its DNS question (tshark dns.qry.name), the hostname
        # google.com of the event's network-socket object: 3 x 6 = 18.
        self.assertEqual(len(self.replay.alerts), 18)
        self.assertEqual(self.replay.stats["alerts"]["written"], 18)
        ids = {a["event"]["id"] for a in self.replay.alerts}
        self.assertEqual(len(ids), 18)
        names = self.replay.alerts_for("5e5d71db-8d7c-430f-830d-6a9da964451a")
        self.assertEqual(len(names), 3)

    def test_alert_fields(self):
        # Frame 1 (tshark): 10.16.1.11:55398 -> 8.8.8.8:53 at epoch 1494364058.364077.
        first = [a for a in self.replay.alerts
                 if a["source"].get("port") == 55398 and a["misp"]["matched_side"] == "destination"]
        self.assertEqual(len(first), 4)
        alert = first[0]
        self.assertEqual(alert["@timestamp"], "2017-05-09T21:07:38.364077Z")
        self.assertEqual(alert["event"]["kind"], "alert")
        self.assertEqual(alert["source"]["ip"], "10.16.1.11")
        self.assertEqual(alert["destination"]["ip"], "8.8.8.8")
        self.assertEqual(alert["destination"]["port"], 53)
        self.assertEqual(alert["network"]["transport"], "udp")
        self.assertEqual(alert["threat"]["indicator"]["ip"], "8.8.8.8")
        self.assertEqual(alert["threat"]["indicator"]["type"], "ipv4-addr")
        self.assertEqual(alert["threat"]["indicator"]["marking"]["tlp"], "CLEAR")
        self.assertEqual(alert["misp"]["event"]["id"], "1255")
        self.assertEqual(alert["misp"]["event"]["uuid"], "5abb8534-ba9c-48cd-bb63-02480a00020f")
        self.assertEqual(alert["misp"]["event"]["info"], "STIX indicators test event")
        self.assertIn("tlp:white", alert["misp"]["event"]["tags"])
        self.assertEqual(alert["misp"]["attribute"]["type"], "ip-dst")
        self.assertEqual(alert["misp"]["attribute"]["category"], "Network activity")
        # Frames 1 and 2 form the flow: one query (81-byte frame, IP length 67) and its
        # answer (273-byte frame, IP length 259): tshark -T fields -e ip.len.
        self.assertEqual(alert["source"]["packets"], 1)
        self.assertEqual(alert["destination"]["packets"], 1)
        self.assertEqual(alert["source"]["bytes"], 67)
        self.assertEqual(alert["destination"]["bytes"], 259)

    def test_console_shows_alerts_and_stats(self):
        self.assertIn("ALERT 2017-05-09T21:07:38.364077Z udp 10.16.1.11:55398 -> 8.8.8.8:53",
                      self.replay.stdout)
        self.assertIn("== stats ==", self.replay.stdout)


class HttpAgainstCraftedEvent(ReplayTestCase):
    """http-get-bro.org.pcap: one TCP flow 141.142.228.5:59856 -> 192.150.187.43:80."""

    EVENT = "crafted/http-bro-org.json"

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("http-get-bro.org.pcap"), misp(cls.EVENT))

    def test_exits_cleanly(self):
        self.assertCleanExit(self.replay)

    def test_alerts_per_attribute(self):
        # tshark -q -z conv,tcp: one conversation. Matching attributes: ip-dst|port
        # 192.150.187.43|80, ip-src 141.142.228.0/24, its mapped IPv6 spelling, and ip-src
        # 192.150.187.43 (the replies).
        self.assertEqual(len(self.replay.alerts), 4)
        self.assertEqual(len(self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a11")), 1)
        self.assertEqual(len(self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a12")), 1)
        self.assertEqual(len(self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a13")), 1)
        self.assertEqual(len(self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a17")), 1)

    def test_filtered_attributes_raise_nothing(self):
        for uuid in ("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a14",   # to_ids false
                     "6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a15",   # other port
                     "6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a16"):  # deleted
            self.assertEqual(self.replay.alerts_for(uuid), [], uuid)
        indicators = self.replay.stats["indicators"]
        self.assertEqual(indicators["skipped_not_ids"], 1)
        self.assertEqual(indicators["skipped_deleted"], 1)

    def test_invalid_and_broad_values_rejected_with_uuid(self):
        self.assertEqual(self.replay.stats["indicators"]["rejected"], 3)
        for uuid in ("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a18",
                     "6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a19",
                     "6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a1a"):
            self.assertIn(uuid, self.replay.stderr)
        self.assertIn("http-bro-org.json", self.replay.stderr)

    def test_community_id_matches_tshark(self):
        # tshark --enable-protocol communityid -T fields -e communityid, frame 1.
        for alert in self.replay.alerts:
            self.assertEqual(alert["network"]["community_id"], "1:yvyB8h+3dnggTZW0UEITWCst97w=")

    def test_flow_counts_and_ports(self):
        # tshark -T fields -e ip.src -e ip.len: 7 packets / 512 IP bytes from the client,
        # 7 packets / 5379 IP bytes from the server.
        alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a11")[0]
        self.assertEqual(alert["source"]["ip"], "141.142.228.5")
        self.assertEqual(alert["source"]["port"], 59856)
        self.assertEqual(alert["destination"]["port"], 80)
        self.assertEqual(alert["source"]["packets"], 7)
        self.assertEqual(alert["destination"]["packets"], 7)
        self.assertEqual(alert["source"]["bytes"], 512)
        self.assertEqual(alert["destination"]["bytes"], 5379)
        self.assertEqual(alert["network"]["packets"], 14)
        self.assertEqual(alert["network"]["transport"], "tcp")

    def test_reply_alert_is_oriented_from_the_server(self):
        alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a17")[0]
        self.assertEqual(alert["source"]["ip"], "192.150.187.43")
        self.assertEqual(alert["source"]["port"], 80)
        self.assertEqual(alert["misp"]["matched_side"], "source")
        self.assertEqual(alert["source"]["packets"], 7)
        self.assertEqual(alert["source"]["bytes"], 5379)

    def test_attribute_tlp_overrides_event_tlp(self):
        port_alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a11")[0]
        self.assertEqual(port_alert["misp"]["tlp"], "green")
        cidr_alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a12")[0]
        self.assertEqual(cidr_alert["misp"]["tlp"], "amber")
        self.assertEqual(cidr_alert["misp"]["matched"], "141.142.228.0/24")

    def test_mapped_prefix_becomes_ipv4(self):
        alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a13")[0]
        self.assertEqual(alert["misp"]["matched"], "141.142.228.0/24")

    def test_no_vlan_fields_without_tags(self):
        for alert in self.replay.alerts:
            self.assertNotIn("vlan", alert["network"])

    def test_alert_ids_stable_across_replays(self):
        again = run_replay(pcap("http-get-bro.org.pcap"), misp(self.EVENT))
        self.assertEqual(sorted(a["event"]["id"] for a in self.replay.alerts),
                         sorted(a["event"]["id"] for a in again.alerts))


class TripleVlanHttp(ReplayTestCase):
    """vlan-qinqinq-http.pcap: the bro.org flow under three 802.1Q tags (VID 30/20/10)."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("vlan-qinqinq-http.pcap"),
                                misp("crafted/http-bro-org.json"))

    def test_same_alerts_as_untagged_capture(self):
        self.assertCleanExit(self.replay)
        self.assertEqual(len(self.replay.alerts), 4)

    def test_vlan_ids_outer_and_inner(self):
        # tshark -T fields -e vlan.id: "30,20,10" on every frame.
        for alert in self.replay.alerts:
            self.assertEqual(alert["network"]["vlan"]["id"], "30")
            self.assertEqual(alert["network"]["inner"]["vlan"]["id"], "10")

    def test_counts_unchanged_by_tags(self):
        alert = self.replay.alerts_for("6b7a1f4e-0c3d-4d8e-9a51-3f0f5d1e2a11")[0]
        self.assertEqual(alert["source"]["bytes"], 512)
        self.assertEqual(alert["destination"]["bytes"], 5379)


class Ipv6ExtensionHeaders(ReplayTestCase):
    """ipv6-exthdr-http.pcap: four TCP connections to [2001:db8:1::1]:80."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("ipv6-exthdr-http.pcap"), misp("crafted/ipv6-exthdr.json"))

    def test_every_connection_alerts(self):
        self.assertCleanExit(self.replay)
        # tshark -q -z conv,tcp: 4 conversations, all with the server as destination of
        # the first packet, so each matches ip-dst 2001:db8:1::1 once.
        server = self.replay.alerts_for("0e5d4c3b-2a19-4f08-8e7d-6c5b4a392821")
        self.assertEqual(len(server), 4)
        self.assertEqual({a["source"]["port"] for a in server}, {36951, 59694, 27393, 45805})

    def test_domain_ip_matches_either_direction(self):
        # domain|ip names the client 2001:db8:1::2 on either side: the 4 TCP flows, plus
        # two ICMPv6 flows (tshark -Y icmpv6: a neighbour solicitation from it and a
        # neighbour advertisement to it), one alert per flow and attribute.
        client = self.replay.alerts_for("0e5d4c3b-2a19-4f08-8e7d-6c5b4a392822")
        self.assertEqual(len(client), 6)
        self.assertEqual(len([a for a in client if a["network"]["transport"] == "ipv6-icmp"]), 2)

    def test_all_ipv6_packets_decoded(self):
        # tshark -Y ipv6: 38 of 38 frames.
        self.assertEqual(self.replay.stats["counters"]["ipv6_packets"], 38)
        self.assertEqual(self.replay.stats["counters"]["decoded_packets"], 38)

    def test_flow_counts_for_first_connection(self):
        # tshark conv,tcp: 2001:db8:1::2:36951 <-> [2001:db8:1::1]:80, 5 frames each way.
        alert = [a for a in self.replay.alerts_for("0e5d4c3b-2a19-4f08-8e7d-6c5b4a392821")
                 if a["source"]["port"] == 36951][0]
        self.assertEqual(alert["source"]["packets"], 5)
        self.assertEqual(alert["destination"]["packets"], 5)
        self.assertEqual(alert["threat"]["indicator"]["type"], "ipv6-addr")
        self.assertEqual(alert["network"]["type"], "ipv6")


class PcapngDvwa(ReplayTestCase):
    """http-sqli-dvwa.pcapng: pcapng with nanosecond timestamps; 4 TCP flows to .154."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("http-sqli-dvwa.pcapng"), misp("crafted/dvwa.json"))

    def test_alerts_per_flow(self):
        self.assertCleanExit(self.replay)
        # tshark -q -z conv,tcp: 4 conversations with 192.168.111.154:80.
        self.assertEqual(len(self.replay.alerts), 4)
        self.assertEqual({a["source"]["port"] for a in self.replay.alerts},
                         {53796, 57524, 40112, 39004})

    def test_non_ip_frames_counted(self):
        # capinfos -c: 64 frames; tshark -Y ip: 48, the other 16 are ARP.
        self.assertEqual(self.replay.stats["packets"], 64)
        self.assertEqual(self.replay.stats["decode"]["not_ip"], 16)
        self.assertEqual(self.replay.stats["counters"]["decoded_packets"], 48)

    def test_tlp_red_attribute(self):
        for alert in self.replay.alerts:
            self.assertEqual(alert["threat"]["indicator"]["marking"]["tlp"], "RED")

    def test_timestamp_from_capture(self):
        # tshark -T fields -e frame.time_epoch, first frame of the flow from port 39004:
        # 1730145002.900383... (microseconds kept).
        alert = [a for a in self.replay.alerts if a["source"]["port"] == 39004][0]
        self.assertTrue(alert["event"]["start"].startswith("2024-10-28T19:50:02.900"))


class TimeoutsFollowPacketTime(ReplayTestCase):
    """Alert delay and idle timeout fire in packet time whatever the table size, instead of
    waiting for the end of the flow or of the capture."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        # Paced, so that bursts are small: a burst's packets share one sweep step, and at
        # full speed the 64 frames of this capture arrive in two bursts. 70 s take 3.5 s.
        cls.dvwa = run_replay(pcap("http-sqli-dvwa.pcapng"), misp("crafted/dvwa.json"),
                              "--flow-capacity", "1048576", "--speed", "20")
        # The first frame of dns-a-aaaa-mx.pcap (a query to 8.8.8.8) three times, 120 s
        # apart: with a 1 s idle timeout each copy starts a flow of its own.
        with open(pcap("dns-a-aaaa-mx.pcap"), "rb") as f:
            header = f.read(24)
            record = f.read(16)
            _, _, caplen, _ = struct.unpack("<IIII", record)
            frame = f.read(caplen)
        seconds, fraction, caplen, length = struct.unpack("<IIII", record)
        cls.gap_path = os.path.join(cls.work.name, "gap.pcap")
        with open(cls.gap_path, "wb") as f:
            f.write(header)
            for copy in range(3):
                f.write(struct.pack("<IIII", seconds + 120 * copy, fraction, caplen, length))
                f.write(frame)
        cls.gap = run_replay(cls.gap_path, misp("events/misp-stixtest-all-types.json"),
                             "--idle-timeout", "1")

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_alert_after_delay(self):
        self.assertCleanExit(self.dvwa)
        # tshark -Y tcp.port==57524: 16 frames over 15.006 s. The default alert delay is
        # 10 s, the sweep passes over the table once a second of packet time.
        alert = [a for a in self.dvwa.alerts if a["source"]["port"] == 57524][0]
        start = alert["event"]["start"]
        end = alert["event"]["end"]
        span = (int(end[17:19]) * 1e6 + int(end[20:26])) - \
            (int(start[17:19]) * 1e6 + int(start[20:26]))
        span += (int(end[14:16]) - int(start[14:16])) * 60e6
        self.assertGreaterEqual(span, 10e6)
        self.assertLess(span, 13e6)
        self.assertLess(alert["network"]["packets"], 16)

    def test_idle_flow_ends_before_its_next_packet(self):
        self.assertCleanExit(self.gap)
        self.assertEqual(self.gap.stats["counters"]["flows_created"], 3)
        # One query to 8.8.8.8 per flow; the STIX event lists 8.8.8.8 five times.
        self.assertEqual(len(self.gap.alerts), 15)


class Ipv4Fragments(ReplayTestCase):
    """dns-v4v6-tcp-ipfrag.pcap: DNSSEC answers from 193.24.227.238 in two fragments."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("dns-v4v6-tcp-ipfrag.pcap"),
                                misp("crafted/dns-fragments.json"))

    def test_fragment_counts(self):
        self.assertCleanExit(self.replay)
        # tshark -o ip.defragment:FALSE -Y "ip.flags.mf==1 or ip.frag_offset>0": 8.
        self.assertEqual(self.replay.stats["counters"]["fragments"], 8)
        # tshark -Y ip: 46, -Y ipv6: 43.
        self.assertEqual(self.replay.stats["counters"]["ipv4_packets"], 46)
        self.assertEqual(self.replay.stats["counters"]["ipv6_packets"], 43)

    def test_first_fragments_carry_ports_later_ones_addresses(self):
        # tshark -o ip.defragment:FALSE lists 4 UDP flows with 193.24.227.238:53 as a
        # source (frames 53, 58, 62, 84) and 4 destinations of non-first fragments
        # without ports (frames 54, 59, 63, 85): 8 flows match ip-src.
        self.assertEqual(len(self.replay.alerts), 8)
        with_ports = [a for a in self.replay.alerts if a["source"].get("port") == 53]
        self.assertEqual(len(with_ports), 4)

    def test_untagged_event_gets_default_tlp(self):
        for alert in self.replay.alerts:
            self.assertEqual(alert["misp"]["tlp"], "amber")


class MplsInVlan(ReplayTestCase):
    def test_all_three_frames_decoded(self):
        # tshark: frame 1 VLAN 3199/IPv4, frame 2 VLAN 0/MPLS 16106/IPv4, frame 3 VLAN
        # 3399/MPLS 254,99/IPv4.
        replay = run_replay(pcap("mpls-in-vlan-http.pcap"), misp("crafted/dvwa.json"))
        self.assertCleanExit(replay)
        self.assertEqual(replay.stats["counters"]["decoded_packets"], 3)


class Workers(ReplayTestCase):
    """Several workers fed by the replay RX lcore with the symmetric hash."""

    def test_same_result_with_three_workers(self):
        one = run_replay(pcap("dns-v4v6-tcp-ipfrag.pcap"), misp("crafted/dns-fragments.json"))
        three = run_replay(pcap("dns-v4v6-tcp-ipfrag.pcap"), misp("crafted/dns-fragments.json"),
                           "--workers", "3")
        self.assertCleanExit(three)
        self.assertEqual(len(three.stats["workers"]), 3)
        self.assertEqual(sum(w["rx_packets"] for w in three.stats["workers"]), 89)
        # Both directions of every flow reach one worker, so the flow count does not grow.
        self.assertEqual(three.stats["counters"]["flows_created"],
                         one.stats["counters"]["flows_created"])
        self.assertEqual(sorted(a["event"]["id"] for a in three.alerts),
                         sorted(a["event"]["id"] for a in one.alerts))


class DamagedCaptures(ReplayTestCase):
    def test_damaged_tail_stops_at_the_damage(self):
        # tshark reads 6 frames, then reports "File has 4325376-byte packet, bigger than
        # maximum of 262144".
        replay = run_replay(pcap("malformed-tls-damaged-tail.pcap"), misp("crafted/dvwa.json"))
        self.assertEqual(replay.returncode, 3, replay.stderr)
        self.assertIn("damaged after packet 6", replay.stderr)
        self.assertEqual(replay.stats["packets"], 6)
        self.assertTrue(replay.stats["capture"]["damaged"])
        self.assertEqual(replay.stats["mbufs_in_use_at_exit"], 0)

    def test_truncated_capture_counts_packets_before_the_cut(self):
        # The first 4000 bytes of http-get-bro.org.pcap: tshark -r on that prefix reads 7
        # whole frames, then reports the file as cut short in the middle of a packet.
        with open(pcap("http-get-bro.org.pcap"), "rb") as f:
            prefix = f.read(4000)
        with tempfile.NamedTemporaryFile(suffix=".pcap") as cut:
            cut.write(prefix)
            cut.flush()
            replay = run_replay(cut.name, misp("crafted/http-bro-org.json"))
        self.assertEqual(replay.returncode, 3, replay.stderr)
        self.assertIn("truncated", replay.stderr)
        self.assertEqual(replay.stats["packets"], 7)
        self.assertEqual(replay.stats["capture"]["packets"], 7)
        # The alerts of the flow's first 7 packets are still written.
        self.assertEqual(len(replay.alerts), 4)

    def test_not_a_capture(self):
        replay = run_replay(misp("crafted/dvwa.json"), misp("crafted/dvwa.json"))
        self.assertEqual(replay.returncode, 1)
        self.assertIn("cannot read capture", replay.stderr)


class BadIntelligence(ReplayTestCase):
    def test_broken_json_is_named_and_the_rest_loads(self):
        with tempfile.TemporaryDirectory() as feed:
            with open(misp("crafted/http-bro-org.json"), encoding="utf-8") as f:
                good = json.load(f)
            manifest = {good["Event"]["uuid"]: {"info": good["Event"]["info"]},
                        "00000000-0000-4000-8000-000000000000": {"info": "broken"}}
            with open(os.path.join(feed, "manifest.json"), "w", encoding="utf-8") as f:
                json.dump(manifest, f)
            with open(os.path.join(feed, good["Event"]["uuid"] + ".json"), "w",
                      encoding="utf-8") as f:
                json.dump(good, f)
            with open(os.path.join(feed, "00000000-0000-4000-8000-000000000000.json"), "w",
                      encoding="utf-8") as f:
                f.write('{"Event": {"uuid": "00000000-0000-4000-8000-0000')
            replay = run_replay(pcap("http-get-bro.org.pcap"), feed)
        self.assertCleanExit(replay)
        self.assertIn("00000000-0000-4000-8000-000000000000.json", replay.stderr)
        self.assertEqual(len(replay.alerts), 4)

    def test_missing_intelligence_fails(self):
        replay = run_replay(pcap("http-get-bro.org.pcap"), "/nonexistent/misp")
        self.assertEqual(replay.returncode, 1)
        self.assertIn("/nonexistent/misp", replay.stderr)


class Pacing(ReplayTestCase):
    def test_speed_follows_capture_time(self):
        # dns-a-aaaa-mx.pcap spans 5.846900 s (tshark frame.time_relative of frame 6); at
        # 10x it takes at least 0.58 s.
        start = time.monotonic()
        replay = run_replay(pcap("dns-a-aaaa-mx.pcap"),
                            misp("events/misp-stixtest-all-types.json"), "--speed", "10")
        elapsed = time.monotonic() - start
        self.assertCleanExit(replay)
        self.assertGreaterEqual(elapsed, 0.58)
        self.assertEqual(len(replay.alerts), 18)

    def test_sigterm_flushes_alerts_and_exits_zero(self):
        with tempfile.TemporaryDirectory() as work:
            alerts_path = os.path.join(work, "alerts.ndjson")
            stats_path = os.path.join(work, "stats.json")
            # At 0.5x the 5.8 s capture would take 11.7 s; stop it after the first flow.
            process = subprocess.Popen(
                [SENSOR, "replay", "--pcap", pcap("dns-a-aaaa-mx.pcap"), "--misp",
                 misp("events/misp-stixtest-all-types.json"), "--alerts", alerts_path,
                 "--stats-json", stats_path, "--speed", "0.5"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2.5)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
            self.assertEqual(process.returncode, 0, stderr)
            with open(alerts_path, encoding="utf-8") as f:
                alerts = [json.loads(line) for line in f]
            with open(stats_path, encoding="utf-8") as f:
                stats = json.load(f)
        # Frames 1-2 (t=0 and 0.065 s) are replayed by then, frame 3 (t=3.22 s, 6.4 s at
        # 0.5x) is not: the first flow's 6 alerts are written, with its counts.
        self.assertEqual(len(alerts), 6)
        self.assertLess(stats["packets"], 6)
        self.assertEqual(stats["mbufs_in_use_at_exit"], 0)


class Enrichment(ReplayTestCase):
    def test_asn_of_both_endpoints(self):
        # tshark -T fields -e ipv6.src -e ipv6.dst: frames 16 and 44 go from
        # 2003:de:2016:120::a08:53:53 to 2003:de:2016:110::b15:22 (ports 46712, 52371).
        # GeoLite2-ASN-Test.json maps 2003::/19 to AS 3320 "Deutsche Telekom AG".
        replay = run_replay(pcap("dns-v4v6-tcp-ipfrag.pcap"), misp("crafted/dns-v6-asn.json"),
                            "--geoip-city", os.path.join(DATA, "mmdb", "GeoIP2-City-Test.mmdb"),
                            "--geoip-asn", os.path.join(DATA, "mmdb", "GeoLite2-ASN-Test.mmdb"))
        self.assertCleanExit(replay)
        self.assertEqual(len(replay.alerts), 2)
        for alert in replay.alerts:
            self.assertEqual(alert["destination"]["as"]["number"], 3320)
            self.assertEqual(alert["destination"]["as"]["organization"]["name"],
                             "Deutsche Telekom AG")
            self.assertEqual(alert["source"]["as"]["number"], 3320)
            # The City test database has no record for these addresses.
            self.assertNotIn("geo", alert["destination"])


class OutputTlp(ReplayTestCase):
    def test_red_alerts_never_reach_an_amber_output(self):
        # The only attribute of crafted/dvwa.json is tagged tlp:red; 4 flows match.
        replay = run_replay(pcap("http-sqli-dvwa.pcapng"), misp("crafted/dvwa.json"),
                            "--alerts-max-tlp", "amber")
        self.assertCleanExit(replay)
        self.assertEqual(replay.alerts, [])
        self.assertEqual(replay.stats["alerts"]["withheld_by_tlp"], 4)
        self.assertNotIn("ALERT", replay.stdout)

    def test_amber_output_takes_lower_levels(self):
        # crafted/http-bro-org.json: 3 alerts at amber (event tag), 1 at green.
        replay = run_replay(pcap("http-get-bro.org.pcap"), misp("crafted/http-bro-org.json"),
                            "--alerts-max-tlp", "green")
        self.assertCleanExit(replay)
        self.assertEqual(len(replay.alerts), 1)
        self.assertEqual(replay.alerts[0]["misp"]["tlp"], "green")
        self.assertEqual(replay.stats["alerts"]["withheld_by_tlp"], 3)


class Suppression(ReplayTestCase):
    """dns-a-aaaa-mx.pcap: 3 flows within 6 s, each matching the same 6 attributes."""

    def check_summaries(self, replay, reason):
        self.assertCleanExit(replay)
        alerts = [a for a in replay.alerts if "sensor" not in a]
        summaries = [a for a in replay.alerts if "sensor" in a]
        # One alert per attribute gets through; the other 2 flows' 12 alerts are held back
        # and reported in one summary per attribute, so nothing is lost.
        self.assertEqual(len(alerts), 6)
        self.assertEqual(len(summaries), 6)
        for summary in summaries:
            self.assertEqual(summary["sensor"]["suppressed"]["reason"], reason)
            self.assertEqual(summary["sensor"]["suppressed"]["count"], 2)
            self.assertEqual(summary["event"]["action"], "suppressed-summary")
        self.assertEqual(sum(s["sensor"]["suppressed"]["count"] for s in summaries), 12)
        self.assertEqual(replay.stats["alerts"]["summaries_written"], 6)
        self.assertEqual(len({a["event"]["id"] for a in replay.alerts}), 12)

    def test_dedup_window(self):
        replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), misp("events/misp-stixtest-all-types.json"),
                            "--dedup-window", "60")
        self.check_summaries(replay, "dedup")
        self.assertEqual(replay.stats["alerts"]["suppressed_dedup"], 12)

    def test_rate_limit(self):
        replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), misp("events/misp-stixtest-all-types.json"),
                            "--rate-limit", "1")
        self.check_summaries(replay, "rate_limit")
        self.assertEqual(replay.stats["alerts"]["suppressed_rate_limit"], 12)


class Patterns(ReplayTestCase):
    """http-sqli-dvwa.pcapng against pattern-in-traffic attributes."""

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(pcap("http-sqli-dvwa.pcapng"), misp("crafted/dvwa-patterns.json"))

    def test_literal_and_regex_match_per_flow(self):
        self.assertCleanExit(self.replay)
        # tshark -Y 'frame contains "UNION+SELECT"' and
        # -Y 'frame matches "(?i)union\\+select\\+null"': frames 41 (port 57524) and 57
        # (port 40112), both client to server.
        for uuid in ("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c31", "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c32"):
            alerts = self.replay.alerts_for(uuid)
            self.assertEqual({a["source"]["port"] for a in alerts}, {57524, 40112}, uuid)
            for alert in alerts:
                self.assertEqual(alert["misp"]["matched_in"], "payload")
                self.assertEqual(alert["threat"]["indicator"]["type"], "artifact")
                self.assertEqual(alert["destination"]["port"], 80)
        self.assertEqual(len(self.replay.alerts), 4)

    def test_unsupported_regex_rejected_with_uuid(self):
        self.assertIn("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c33", self.replay.stderr)
        self.assertEqual(self.replay.stats["indicators"]["rejected"], 1)
        self.assertEqual(self.replay.stats["indicators"]["loaded_by_type"]["pattern-in-traffic"], 2)
        self.assertEqual(self.replay.stats["indicators"]["skipped_not_ids"], 1)

    def test_streams_used_for_tcp(self):
        counters = self.replay.stats["counters"]
        self.assertGreater(counters["streams_opened"], 0)
        self.assertEqual(counters["stream_open_failed"], 0)
        self.assertEqual(counters["session_table_full"], 0)


class Names(ReplayTestCase):
    """Domain, hostname and URL attributes of crafted/names.json on real captures."""

    EVENT = "crafted/names.json"

    def replay(self, capture):
        replay = run_replay(pcap(capture), misp(self.EVENT))
        self.assertCleanExit(replay)
        return replay

    def test_dns_questions(self):
        # tshark -T fields -e dns.qry.name: google.com in all 3 queries (3 UDP flows).
        replay = self.replay("dns-a-aaaa-mx.pcap")
        alerts = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d61")
        self.assertEqual(len(alerts), 3)
        for alert in alerts:
            self.assertEqual(alert["misp"]["matched_in"], "dns.question.name")
            self.assertEqual(alert["dns"]["question"]["name"], "google.com")
            self.assertEqual(alert["threat"]["indicator"]["type"], "domain-name")
        # tshark -e dns.a -e dns.aaaa: 12 A records (frame 2) and 1 AAAA (frame 4) answer
        # for google.com; each address is handed over to be watched.
        self.assertEqual(replay.stats["counters"]["resolved_queued"], 13)

    def test_tls12_sni_with_trailing_dot_and_case_in_intel(self):
        # tshark -e tls.handshake.extensions_server_name, frame 4: google.de.
        replay = self.replay("tls12-sni-google.de.pcap")
        alerts = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d62")
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["tls"]["client"]["server_name"], "google.de")
        self.assertEqual(alerts[0]["misp"]["matched"], "google.de")

    def test_tls13_sni_matches_parent_domain(self):
        # Frame 4: rr4---sn-5hne6nzy.googlevideo.com, below the listed googlevideo.com.
        replay = self.replay("tls13-sni-googlevideo.pcap")
        alerts = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d63")
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["tls"]["client"]["server_name"],
                         "rr4---sn-5hne6nzy.googlevideo.com")
        self.assertEqual(alerts[0]["destination"]["port"], 443)

    def test_quic_initial_sni(self):
        # tshark decrypts the Initial of frame 1: api.cirrus-ci.com.
        replay = self.replay("quic-v1-sni-cirrus-ci.pcap")
        alerts = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d64")
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["misp"]["matched_in"], "quic.tls.client.server_name")
        self.assertEqual(replay.stats["counters"]["quic_client_hellos"], 1)

    def test_http_host_and_url(self):
        # tshark -e http.host -e http.request.full_uri, frame 4: bro.org and
        # http://bro.org/download/CHANGES.bro-aux.txt.
        replay = self.replay("http-get-bro.org.pcap")
        host = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d66")
        self.assertEqual(len(host), 1)
        self.assertEqual(host[0]["url"]["domain"], "bro.org")
        url = replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d67")
        self.assertEqual(len(url), 1)
        self.assertEqual(url[0]["url"]["full"], "http://bro.org/download/CHANGES.bro-aux.txt")
        self.assertEqual(url[0]["threat"]["indicator"]["url"]["full"],
                         "http://bro.org/download/CHANGES.bro-aux.txt")
        # A hostname attribute matches only that exact name.
        self.assertEqual(replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d65"), [])

    def test_invalid_domain_rejected_with_uuid(self):
        replay = self.replay("http-get-bro.org.pcap")
        self.assertIn("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d68", replay.stderr)
        self.assertEqual(replay.stats["indicators"]["rejected"], 1)


class Looping(ReplayTestCase):
    """--loop N: http-get-bro.org.pcap holds 14 packets of one TCP flow (capinfos -c;
    tshark -q -z conv,tcp lists one conversation), replayed three times."""

    @classmethod
    def setUpClass(cls):
        cls.one_worker = run_replay(pcap("http-get-bro.org.pcap"),
                                    misp("crafted/http-bro-org.json"), "--loop", "3")
        cls.two_workers = run_replay(pcap("http-get-bro.org.pcap"),
                                     misp("crafted/http-bro-org.json"), "--loop", "3",
                                     "--workers", "2")

    def test_exits_cleanly(self):
        self.assertCleanExit(self.one_worker)
        self.assertCleanExit(self.two_workers)

    def test_packets_of_every_pass_counted(self):
        for replay in (self.one_worker, self.two_workers):
            self.assertEqual(replay.stats["packets"], 3 * 14)
            self.assertEqual(replay.stats["capture"]["packets"], 14)
            self.assertEqual(replay.stats["capture"]["passes"], 3)
            self.assertEqual(replay.stats["capture"]["packets_taken"], 3 * 14)
            self.assertEqual(sum(w["rx_packets"] for w in replay.stats["workers"]), 3 * 14)

    def test_each_pass_is_a_new_flow(self):
        for replay in (self.one_worker, self.two_workers):
            self.assertEqual(replay.stats["counters"]["flows_created"], 3)
            self.assertEqual(replay.stats["drops"]["flows_evicted"], 0)
            # Four matching attributes per flow (HttpAgainstCraftedEvent).
            self.assertEqual(len(replay.alerts), 3 * 4)

    def test_time_moves_forward(self):
        flows = sorted({(a["event"]["start"], a["event"]["end"]) for a in self.one_worker.alerts})
        self.assertEqual(len(flows), 3)
        for earlier, later in zip(flows, flows[1:]):
            self.assertGreater(later[0], earlier[1])
        ids = [a["event"]["id"] for a in self.one_worker.alerts]
        self.assertEqual(len(ids), len(set(ids)))

    def test_same_alerts_with_two_workers(self):
        self.assertEqual(sorted(a["event"]["id"] for a in self.one_worker.alerts),
                         sorted(a["event"]["id"] for a in self.two_workers.alerts))


def rewrite_pcap(source, destination, snaplen=None, link_type=None):
    """Copies a little-endian pcap, cutting each record to `snaplen` bytes or changing
    the link type in the file header."""
    with open(source, "rb") as f:
        data = f.read()
    header = bytearray(data[:24])
    if link_type is not None:
        header[20:24] = struct.pack("<I", link_type)
    if snaplen is not None:
        header[16:20] = struct.pack("<I", snaplen)
    out = bytearray(header)
    offset = 24
    while offset + 16 <= len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[offset:offset + 16])
        body = data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        if snaplen is not None:
            body = body[:snaplen]
        out += struct.pack("<IIII", sec, usec, len(body), length) + body
    with open(destination, "wb") as f:
        f.write(out)


class HostileInput(ReplayTestCase):
    def test_short_snaplen_still_matches_addresses(self):
        # Every frame cut to 54 bytes (editcap -s 54 does the same): Ethernet, IPv4 and
        # only 20 bytes of the 32-byte TCP header (tshark marks them truncated). The
        # address attributes still match, on a flow without ports: ip-src /24, its mapped
        # spelling, and ip-src 192.150.187.43. The port-qualified one cannot.
        with tempfile.TemporaryDirectory() as work:
            cut = os.path.join(work, "cut.pcap")
            rewrite_pcap(pcap("http-get-bro.org.pcap"), cut, snaplen=54)
            replay = run_replay(cut, misp("crafted/http-bro-org.json"))
        self.assertCleanExit(replay)
        self.assertEqual(replay.stats["decode"]["truncated_tcp"], 14)
        self.assertEqual(len(replay.alerts), 3)
        for alert in replay.alerts:
            self.assertEqual(alert["network"]["packets"], 14)

    def test_non_ethernet_capture_rejected(self):
        with tempfile.TemporaryDirectory() as work:
            raw = os.path.join(work, "raw.pcap")
            rewrite_pcap(pcap("http-get-bro.org.pcap"), raw, link_type=113)
            replay = run_replay(raw, misp("crafted/http-bro-org.json"))
        self.assertEqual(replay.returncode, 1)
        self.assertIn("link type", replay.stderr)

    def test_output_that_is_the_input_refused(self):
        with tempfile.TemporaryDirectory() as work:
            capture = os.path.join(work, "in.pcap")
            with open(pcap("http-get-bro.org.pcap"), "rb") as f:
                original = f.read()
            with open(capture, "wb") as f:
                f.write(original)
            result = subprocess.run(
                [SENSOR, "replay", "--pcap", capture, "--misp", misp("crafted/dvwa.json"),
                 "--stats-json", capture], capture_output=True, text=True, timeout=60,
                check=False)
            with open(capture, "rb") as f:
                self.assertEqual(f.read(), original)
        self.assertEqual(result.returncode, 2)
        self.assertIn("would destroy the input", result.stderr)

    def test_fifo_as_intelligence_refused(self):
        with tempfile.TemporaryDirectory() as work:
            fifo = os.path.join(work, "event.json")
            os.mkfifo(fifo)
            replay = run_replay(pcap("http-get-bro.org.pcap"), fifo, timeout=30)
        self.assertEqual(replay.returncode, 1)
        self.assertIn("not a regular file", replay.stderr)

    def test_control_characters_never_reach_the_terminal(self):
        with open(misp("crafted/http-bro-org.json"), encoding="utf-8") as f:
            event = json.load(f)
        event["Event"]["info"] = "\u001b]0;title\u0007\u001b[2J\r\nALERT forged"
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "event.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(event, f)
            replay = run_replay(pcap("http-get-bro.org.pcap"), path)
        self.assertCleanExit(replay)
        self.assertNotIn("\u001b", replay.stdout)
        self.assertNotIn("\nALERT forged", replay.stdout)
        self.assertEqual(replay.alerts[0]["misp"]["event"]["info"], event["Event"]["info"])


class Warninglists(ReplayTestCase):
    def test_listed_indicators_are_not_loaded(self):
        with tempfile.TemporaryDirectory() as work:
            shutil.copytree(os.path.join(DATA, "misp", "warninglists"),
                            os.path.join(work, "warninglists"))
            crafted = os.path.join(work, "warninglists", "lists", "sensor-test-hosts")
            os.makedirs(crafted)
            with open(os.path.join(crafted, "list.json"), "w", encoding="utf-8") as f:
                json.dump({"name": "Sensor test hosts", "version": 1, "type": "hostname",
                           "description": "Names the test captures query",
                           "matching_attributes": ["domain", "hostname"],
                           "list": ["google.com"]}, f)
            with open(misp("crafted/names.json"), encoding="utf-8") as f:
                event = json.load(f)
            # 104.16.1.0/24 lies inside Cloudflare's listed 104.16.0.0/13: a block inside
            # a listed block is screened too, not only single addresses.
            event["Event"]["Attribute"].append({
                "uuid": "8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d69", "type": "ip-dst",
                "category": "Network activity", "value": "104.16.1.0/24", "to_ids": True})
            path = os.path.join(work, "event.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(event, f)
            replay = run_replay(pcap("dns-a-aaaa-mx.pcap"), path, "--warninglists",
                                os.path.join(work, "warninglists"))
        self.assertCleanExit(replay)
        self.assertEqual(replay.alerts_for("8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d61"), [])
        by_list = replay.stats["indicators"]["warninglisted_by_list"]
        self.assertEqual(by_list["Sensor test hosts"], 1)
        self.assertEqual(by_list["List of known Cloudflare IP ranges"], 1)
        self.assertEqual(replay.stats["indicators"]["warninglisted"], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)

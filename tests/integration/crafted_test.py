#!/usr/bin/env python3
"""End-to-end tests: the built sensor replays the crafted application-layer captures.

The captures are in tests/data/crafted. make_app_captures.py writes them, and SOURCES.md
there describes them frame by frame. They contain the hard matching cases: split and
reordered TLS ClientHellos, DNS compression loops, internationalised names, trailing dots
and mixed case, payload patterns split across TCP segments, and connections to addresses
that a DNS answer gave for a listed domain. They are replayed against
tests/data/misp/crafted/app-cases.json.

Expected values come from tshark 4.0's dissection of the same files or from the MISP file,
never from the sensor's own output. The tshark commands are in the comments, where F is
the capture file of the test class. tshark reassembles TCP itself.
"""

import os
import unittest

from replay_test import DATA, ReplayTestCase, run_replay

EVENT = os.path.join(DATA, "misp", "crafted", "app-cases.json")
EVENT_UUID = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f01"

# Attribute uuids of app-cases.json.
SPLIT_HELLO = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f11"         # hostname split-hello.example
OUT_OF_ORDER_HELLO = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f12"  # domain out-of-order-hello.example
AFTER_LOOPS = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f13"         # domain after-loops.example
BUECHER = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f14"             # domain bücher.example
TRAILING_DOT = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f15"        # hostname www.trailing-dot.example
MIXED_CASE = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f16"          # domain mixed-case.example
SPLIT_LITERAL = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f17"       # split-literal-marker
SPLIT_REGEX = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f18"         # /evil[0-9]{4}-payload/i
THREE_SEGMENT_LITERAL = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f19"  # three-segment-marker
RESOLVED_DOMAIN = "3f6e2a10-7b4c-4d1e-9a2f-5c8b0d4e6f1a"     # domain resolved-follow-up.example


def crafted(name):
    return os.path.join(DATA, "crafted", name)


class CraftedReplay:
    """Replays CAPTURE once per class, with EXTRA_ARGS added to the command line.

    A mixin, so that unittest collects only the classes that name a capture.
    """

    CAPTURE = None
    EXTRA_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.replay = run_replay(crafted(cls.CAPTURE), EVENT, *cls.EXTRA_ARGS)

    def only_alert_for(self, attribute_uuid):
        alerts = self.replay.alerts_for(attribute_uuid)
        self.assertEqual(len(alerts), 1, self.replay.alerts)
        return alerts[0]

    def assertNameAlert(self, alert, attribute_type, matched, matched_in, observed):
        """Check the fields that every name alert of app-cases.json carries."""
        self.assertEqual(alert["misp"]["event"]["uuid"], EVENT_UUID)
        self.assertEqual(alert["misp"]["attribute"]["type"], attribute_type)
        self.assertEqual(alert["misp"]["matched"], matched)
        self.assertEqual(alert["misp"]["matched_in"], matched_in)
        self.assertEqual(alert["misp"]["observed"], observed)
        self.assertEqual(alert["threat"]["indicator"]["type"], "domain-name")
        self.assertEqual(alert["threat"]["indicator"]["url"]["domain"], matched)
        # The event's tag. Only the resolved-follow-up attribute has a TLP tag of its own.
        self.assertEqual(alert["misp"]["tlp"], "green")

    def test_exits_cleanly(self):
        self.assertCleanExit(self.replay)

    def test_intelligence_loaded(self):
        # app-cases.json: 5 domain, 2 hostname and 3 pattern-in-traffic attributes, all
        # to_ids, none deleted.
        indicators = self.replay.stats["indicators"]
        self.assertEqual(indicators["loaded_by_type"],
                         {"domain": 5, "hostname": 2, "pattern-in-traffic": 3})
        self.assertEqual(indicators["rejected"], 0)


class TlsClientHelloSplit(CraftedReplay, ReplayTestCase):
    """tls-clienthello-split.pcap: a ClientHello in 3 segments, the record header cut."""

    CAPTURE = "tls-clienthello-split.pcap"

    def test_sni_from_three_segments(self):
        # tshark -r F -Y tls.handshake.type==1 -T fields -e tls.handshake.extensions_server_name
        #   -e tcp.segment: split-hello.example, reassembled from frames 4,5,6 (tcp.len 3, 71
        #   and 20: tshark -T fields -e tcp.len).
        alert = self.only_alert_for(SPLIT_HELLO)
        self.assertNameAlert(alert, "hostname", "split-hello.example", "tls.client.server_name",
                             "split-hello.example")
        self.assertEqual(alert["tls"]["client"]["server_name"], "split-hello.example")
        self.assertEqual(alert["misp"]["matched_side"], "source")
        self.assertEqual(len(self.replay.alerts), 1)

    def test_flow_of_the_alert(self):
        # tshark -r F -q -z conv,tcp: 192.0.2.10:49201 <-> 203.0.113.10:443, 5 frames from
        # the client and 2 from the server. -T fields -e ip.len: 40+40+43+111+60 = 294 and
        # 40+40 = 80 IP bytes.
        alert = self.only_alert_for(SPLIT_HELLO)
        self.assertEqual(alert["source"]["ip"], "192.0.2.10")
        self.assertEqual(alert["source"]["port"], 49201)
        self.assertEqual(alert["destination"]["ip"], "203.0.113.10")
        self.assertEqual(alert["destination"]["port"], 443)
        self.assertEqual(alert["source"]["packets"], 5)
        self.assertEqual(alert["destination"]["packets"], 2)
        self.assertEqual(alert["source"]["bytes"], 294)
        self.assertEqual(alert["destination"]["bytes"], 80)
        self.assertEqual(alert["network"]["transport"], "tcp")

    def test_counters(self):
        # capinfos -c: 7 packets. tshark -Y tls.handshake.type==1: 1 ClientHello.
        self.assertEqual(self.replay.stats["packets"], 7)
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["tls_client_hellos"], 1)
        self.assertEqual(counters["name_matches"], 1)
        self.assertEqual(counters["handshake_given_up"], 0)


class TlsClientHelloOutOfOrder(CraftedReplay, ReplayTestCase):
    """tls-clienthello-out-of-order.pcap: segments 2, 1, 2 again, 3 of a ClientHello."""

    CAPTURE = "tls-clienthello-out-of-order.pcap"

    def test_sni_from_reordered_segments(self):
        # tshark -r F -o tcp.reassemble_out_of_order:TRUE -Y tls.handshake.type==1 -T fields
        #   -e tls.handshake.extensions_server_name -e tcp.segment:
        #   www.out-of-order-hello.example from frames 5,4,6,7. Frame 4 (tcp.seq 4, 77 bytes)
        #   comes before frame 5 (tcp.seq 1, 3 bytes), and frame 6 repeats frame 4
        #   ("TCP Retransmission" in tshark's Info column).
        alert = self.only_alert_for(OUT_OF_ORDER_HELLO)
        self.assertNameAlert(alert, "domain", "out-of-order-hello.example",
                             "tls.client.server_name", "www.out-of-order-hello.example")
        self.assertEqual(alert["destination"]["ip"], "203.0.113.11")
        self.assertEqual(alert["destination"]["port"], 443)
        self.assertEqual(len(self.replay.alerts), 1)

    def test_counters(self):
        # capinfos -c: 8 packets. tshark, reassembling out of order, finds 1 ClientHello.
        self.assertEqual(self.replay.stats["packets"], 8)
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["tls_client_hellos"], 1)
        self.assertEqual(counters["name_matches"], 1)


class TlsSniMixedCase(CraftedReplay, ReplayTestCase):
    """tls-sni-mixed-case.pcap: a TLS 1.3 ClientHello whose SNI mixes case."""

    CAPTURE = "tls-sni-mixed-case.pcap"

    def test_sni_matches_lower_case_domain(self):
        # tshark -r F -Y tls.handshake.type==1 -T fields -e tls.handshake.extensions_server_name
        #   -e tls.handshake.extensions.supported_version: Www.MIXED-case.Example,
        #   0x0304,0x0303. The observed name is reported in canonical lower case.
        alert = self.only_alert_for(MIXED_CASE)
        self.assertNameAlert(alert, "domain", "mixed-case.example", "tls.client.server_name",
                             "www.mixed-case.example")
        self.assertEqual(alert["tls"]["client"]["server_name"], "www.mixed-case.example")
        self.assertEqual(alert["source"]["port"], 49203)
        self.assertEqual(alert["destination"]["ip"], "203.0.113.12")
        self.assertEqual(len(self.replay.alerts), 1)

    def test_counters(self):
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["tls_client_hellos"], 1)
        self.assertEqual(counters["names_not_canonical"], 0)


class DnsCompressionLoop(CraftedReplay, ReplayTestCase):
    """dns-compression-loop.pcap: 4 malformed DNS responses, then a valid one."""

    CAPTURE = "dns-compression-loop.pcap"

    def test_malformed_messages_counted(self):
        # tshark -r F -T fields -e frame.number -e dns.qry.name -e dns.resp.name:
        #   frame 1 question "<Name contains a pointer that loops>" (pointer to itself),
        #   frame 2 answer 2 "<Name contains a pointer that loops>" (offsets 45 -> 43 -> 45),
        #   frame 3 question "<Name contains a pointer that loops>" (label, then pointer
        #   back to it) and frame 4 question 4 "<Name too long>". Frame 5 dissects cleanly.
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["dns_malformed"], 4)
        self.assertEqual(counters["dns_messages"], 1)

    def test_valid_response_after_loops_alerts(self):
        # tshark -r F -Y frame.number==5 -T fields -e dns.qry.name -e dns.a -e ip.src
        #   -e udp.srcport -e udp.dstport: after-loops.example, 198.51.100.90, 192.0.2.53,
        #   53, 50005. The response is the first packet of its flow, so the resolver is
        #   the alert's source.
        alert = self.only_alert_for(AFTER_LOOPS)
        self.assertNameAlert(alert, "domain", "after-loops.example", "dns.question.name",
                             "after-loops.example")
        self.assertEqual(alert["dns"]["question"]["name"], "after-loops.example")
        self.assertEqual(alert["source"]["ip"], "192.0.2.53")
        self.assertEqual(alert["source"]["port"], 53)
        self.assertEqual(alert["destination"]["port"], 50005)
        self.assertEqual(alert["network"]["transport"], "udp")
        self.assertEqual(len(self.replay.alerts), 1)

    def test_every_packet_processed(self):
        # capinfos -c: 5 packets. tshark -q -z conv,udp: 5 conversations. The one A record
        # of a listed name (frame 5) is handed over to be watched.
        self.assertEqual(self.replay.stats["packets"], 5)
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["decoded_packets"], 5)
        self.assertEqual(counters["flows_created"], 5)
        self.assertEqual(counters["resolved_queued"], 1)


class DnsIdn(CraftedReplay, ReplayTestCase):
    """dns-idn.pcap: query and response for xn--bcher-kva.example."""

    CAPTURE = "dns-idn.pcap"

    def test_idn_question_matches_unicode_domain(self):
        # tshark -r F -T fields -e dns.qry.name: xn--bcher-kva.example in both frames.
        # python3 -c "print('bücher.example'.encode('idna'))": b'xn--bcher-kva.example'.
        alert = self.only_alert_for(BUECHER)
        self.assertNameAlert(alert, "domain", "xn--bcher-kva.example", "dns.question.name",
                             "xn--bcher-kva.example")
        self.assertEqual(alert["misp"]["attribute"]["value"], "bücher.example")
        self.assertEqual(alert["source"]["ip"], "192.0.2.10")
        self.assertEqual(alert["source"]["port"], 50100)
        self.assertEqual(alert["destination"]["port"], 53)
        self.assertEqual(len(self.replay.alerts), 1)

    def test_dns_names_merge_into_one_alert(self):
        # tshark -r F -T fields -e dns.qry.name -e dns.resp.name: 3 names, the question of
        # each frame and the answer of frame 2, all in one UDP flow (tshark -z conv,udp).
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["dns_messages"], 2)
        self.assertEqual(counters["name_matches"], 3)
        self.assertEqual(self.replay.stats["alerts"]["written"], 1)
        self.assertEqual(self.replay.stats["alerts"]["merged"], 2)


class DnsMixedCase(CraftedReplay, ReplayTestCase):
    """dns-mixed-case.pcap: one query for WWW.Mixed-Case.EXAMPLE."""

    CAPTURE = "dns-mixed-case.pcap"

    def test_question_matches_lower_case_domain(self):
        # tshark -r F -T fields -e dns.qry.name: WWW.Mixed-Case.EXAMPLE. The observed name
        # is reported in canonical lower case.
        alert = self.only_alert_for(MIXED_CASE)
        self.assertNameAlert(alert, "domain", "mixed-case.example", "dns.question.name",
                             "www.mixed-case.example")
        self.assertEqual(alert["dns"]["question"]["name"], "www.mixed-case.example")
        self.assertEqual(alert["source"]["port"], 50200)
        self.assertEqual(len(self.replay.alerts), 1)


class HttpHostTrailingDot(CraftedReplay, ReplayTestCase):
    """http-host-trailing-dot.pcap: two requests whose Host ends with a dot."""

    CAPTURE = "http-host-trailing-dot.pcap"

    def test_host_with_trailing_dot_matches_hostname(self):
        # tshark -r F -Y http.request -T fields -e http.host -e tcp.dstport:
        #   "www.trailing-dot.example." 80 and "WWW.Trailing-Dot.EXAMPLE.:8080" 8080. Both
        #   are the listed hostname once the port and the trailing dot are removed and the
        #   case is folded.
        alerts = self.replay.alerts_for(TRAILING_DOT)
        self.assertEqual(len(alerts), 2, self.replay.alerts)
        self.assertEqual({a["destination"]["port"] for a in alerts}, {80, 8080})
        self.assertEqual({a["source"]["port"] for a in alerts}, {49401, 49402})
        for alert in alerts:
            self.assertNameAlert(alert, "hostname", "www.trailing-dot.example",
                                 "http.request.host", "www.trailing-dot.example")
            self.assertEqual(alert["url"]["domain"], "www.trailing-dot.example")
        self.assertEqual(len(self.replay.alerts), 2)

    def test_counters(self):
        # tshark -Y http.request: 2 requests.
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["http_requests"], 2)
        self.assertEqual(counters["name_matches"], 2)


class PatternSplitSegments(CraftedReplay, ReplayTestCase):
    """pattern-split-segments.pcap: an HTTP POST whose body carries 3 split patterns."""

    CAPTURE = "pattern-split-segments.pcap"

    def test_split_patterns_match_once(self):
        # The patterns are in no single frame, only in the reassembled stream:
        # tshark -r F -Y 'frame contains "split-literal-marker" or frame matches
        #   "(?i)evil[0-9]{4}-payload" or frame contains "three-segment-marker"': no frame.
        # tshark -r F -Y 'tcp.reassembled.data contains "split-literal-marker" and
        #   tcp.reassembled.data matches "(?i)evil[0-9]{4}-payload" and
        #   tcp.reassembled.data contains "three-segment-marker"' -T fields -e tcp.segment:
        #   frame 8, from frames 4,5,6,7,8.
        for uuid, value in ((SPLIT_LITERAL, "split-literal-marker"),
                            (SPLIT_REGEX, "/evil[0-9]{4}-payload/i"),
                            (THREE_SEGMENT_LITERAL, "three-segment-marker")):
            alert = self.only_alert_for(uuid)
            self.assertEqual(alert["misp"]["matched_in"], "payload", uuid)
            self.assertEqual(alert["misp"]["matched"], value)
            self.assertEqual(alert["misp"]["attribute"]["type"], "pattern-in-traffic")
            self.assertEqual(alert["threat"]["indicator"]["type"], "artifact")
            self.assertEqual(alert["source"]["port"], 49501)
            self.assertEqual(alert["destination"]["ip"], "203.0.113.30")
            self.assertEqual(alert["destination"]["port"], 80)
        self.assertEqual(len(self.replay.alerts), 3)

    def test_one_stream_scanned_without_gaps(self):
        # tshark -r F -T fields -e tcp.len: the client sends 137+27+24+8+19 = 215 bytes in
        # sequence and the server none, so one direction is scanned as a stream.
        counters = self.replay.stats["counters"]
        self.assertEqual(counters["streams_opened"], 1)
        self.assertEqual(counters["payload_stream_bytes"], 215)
        self.assertEqual(counters["stream_gaps"], 0)
        self.assertEqual(counters["pattern_matches"], 3)


class DnsResolvedFollowUp(CraftedReplay, ReplayTestCase):
    """dns-resolved-follow-up.pcap at recorded speed: a lookup, then a connection 2 s later."""

    CAPTURE = "dns-resolved-follow-up.pcap"
    # The control thread publishes the watched address. At recorded speed the 2 s
    # gap in the capture leaves it that time.
    EXTRA_ARGS = ("--speed", "1")

    def test_lookup_alerts_on_the_question(self):
        # tshark -r F -T fields -e dns.qry.name: c2.resolved-follow-up.example (frames 1-2).
        alerts = [a for a in self.replay.alerts_for(RESOLVED_DOMAIN)
                  if a["network"]["transport"] == "udp"]
        self.assertEqual(len(alerts), 1, self.replay.alerts)
        self.assertEqual(alerts[0]["misp"]["matched_in"], "dns.question.name")
        self.assertEqual(alerts[0]["dns"]["question"]["name"], "c2.resolved-follow-up.example")

    def test_connection_to_answered_address_alerts(self):
        # tshark -r F -Y frame.number==2 -T fields -e dns.a -e dns.resp.ttl: 198.51.100.80,
        # 600. tshark -q -z conv,tcp: 192.0.2.10:49601 <-> 198.51.100.80:443, frames 3-5,
        # 2 from the client and 1 from the server, 40 IP bytes each (-e ip.len).
        alerts = [a for a in self.replay.alerts_for(RESOLVED_DOMAIN)
                  if a["network"]["transport"] == "tcp"]
        self.assertEqual(len(alerts), 1, self.replay.alerts)
        alert = alerts[0]
        self.assertEqual(alert["misp"]["matched_in"], "dns.answers.data")
        self.assertEqual(alert["misp"]["matched"], "resolved-follow-up.example")
        self.assertEqual(alert["misp"]["matched_side"], "destination")
        self.assertEqual(alert["misp"]["attribute"]["type"], "domain")
        self.assertEqual(alert["threat"]["indicator"]["type"], "domain-name")
        self.assertEqual(alert["threat"]["indicator"]["url"]["domain"],
                         "resolved-follow-up.example")
        # No name was seen on this flow, only the address.
        self.assertNotIn("observed", alert["misp"])
        self.assertNotIn("dns", alert)
        self.assertEqual(alert["source"]["ip"], "192.0.2.10")
        self.assertEqual(alert["source"]["port"], 49601)
        self.assertEqual(alert["destination"]["ip"], "198.51.100.80")
        self.assertEqual(alert["destination"]["port"], 443)
        self.assertEqual(alert["source"]["packets"], 2)
        self.assertEqual(alert["destination"]["packets"], 1)
        self.assertEqual(alert["source"]["bytes"], 80)
        self.assertEqual(alert["destination"]["bytes"], 40)
        # tshark -r F -Y frame.number==3 -T fields -e frame.time_epoch: 1704067202.002000.
        self.assertEqual(alert["@timestamp"], "2024-01-01T00:00:02.002000Z")

    def test_attribute_tlp_and_context(self):
        # The attribute carries tlp:amber, the event tlp:green: the attribute's tag wins.
        for alert in self.replay.alerts_for(RESOLVED_DOMAIN):
            self.assertEqual(alert["misp"]["tlp"], "amber")
            self.assertEqual(alert["misp"]["event"]["uuid"], EVENT_UUID)
            self.assertEqual(alert["misp"]["attribute"]["value"], "resolved-follow-up.example")
        self.assertEqual(len(self.replay.alerts), 2)

    def test_answered_address_is_not_an_indicator(self):
        # app-cases.json has no address attribute. Only the DNS answer makes 198.51.100.80
        # an indicator.
        self.assertNotIn("ip-dst", self.replay.stats["indicators"]["loaded_by_type"])
        self.assertEqual(self.replay.stats["counters"]["resolved_queued"], 1)


class DnsResolvedFollowUpFastReplay(CraftedReplay, ReplayTestCase):
    """dns-resolved-follow-up.pcap replayed as fast as possible.

    The capture is the same: 2 s of capture time separate the answer and the connection,
    and replay takes all time from the capture, so the result must not change.
    """

    CAPTURE = "dns-resolved-follow-up.pcap"

    def test_connection_to_answered_address_alerts(self):
        # As in DnsResolvedFollowUp: one alert for the TCP flow to 198.51.100.80:443.
        alerts = [a for a in self.replay.alerts_for(RESOLVED_DOMAIN)
                  if a["network"]["transport"] == "tcp"]
        self.assertEqual(len(alerts), 1, self.replay.alerts)
        self.assertEqual(alerts[0]["misp"]["matched_in"], "dns.answers.data")
        self.assertEqual(alerts[0]["destination"]["ip"], "198.51.100.80")


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Write the crafted tunnel captures that the decoder tests read.

Every frame is built with scapy (tested with 2.5.0, Debian's python3-scapy) from fixed
field values and given a fixed timestamp, so a rerun writes byte-identical files. The
addresses come from the documentation ranges (RFC 5737, RFC 3849) and the MAC addresses
are locally administered. SOURCES.md describes each file frame by frame; the expected
values in the tests are tshark's dissection of these files.

Usage: make_captures.py [OUTPUT_DIR]   (default: the directory of this script)
"""

import os
import sys

from scapy.all import DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, GRE, Raw
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.geneve import GENEVE
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.contrib.nsh import NSH
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import GRE_PPTP
from scapy.layers.ppp import PPP
from scapy.layers.vxlan import VXLAN
from scapy.utils import PcapWriter

# 2024-01-01T00:00:00Z; frame i of a file is stamped one millisecond after frame i - 1.
BASE_TIME = 1704067200

OUTER_MAC_SRC = "02:00:00:00:00:01"
OUTER_MAC_DST = "02:00:00:00:00:02"
INNER_MAC_SRC = "02:00:00:00:01:01"
INNER_MAC_DST = "02:00:00:00:01:02"

GRE_PROTO_TRANSPARENT_ETHERNET = 0x6558
GRE_PROTO_ERSPAN_I_II = 0x88BE
GRE_PROTO_ERSPAN_III = 0x22EB
GRE_PROTO_MPLS = 0x8847
GRE_PROTO_NSH = 0x894F
GTP_U_PORT = 2152
VXLAN_PORT = 4789
VXLAN_GPE_PORT = 4790
GENEVE_PORT = 6081
GTP_EXTENSION_PDU_SESSION_CONTAINER = 0x85
GTP_MESSAGE_ECHO_REQUEST = 1
GTP_MESSAGE_GPDU = 0xFF


def outer_ether():
    return Ether(src=OUTER_MAC_SRC, dst=OUTER_MAC_DST)


def inner_ether():
    return Ether(src=INNER_MAC_SRC, dst=INNER_MAC_DST)


def outer_ipv4(ip_id=1, **fields):
    return IP(src="192.0.2.1", dst="192.0.2.2", id=ip_id, ttl=64, **fields)


def tcp_syn(sport, dport):
    return TCP(sport=sport, dport=dport, flags="S", seq=1000, window=64240)


def dns_query(sport, name):
    return UDP(sport=sport, dport=53) / DNS(id=0x1234, rd=1, qd=DNSQR(qname=name))


def erspan_type2():
    """Return an ERSPAN type II frame whose mirrored frame has an 802.1Q tag."""
    return [
        outer_ether()
        / outer_ipv4()
        / GRE(seqnum_present=1, sequence_number=7, proto=GRE_PROTO_ERSPAN_I_II)
        / ERSPAN_II(ver=1, vlan=100, cos=0, en=3, t=0, session_id=123, index=5)
        / inner_ether()
        / Dot1Q(vlan=100)
        / IP(src="198.51.100.10", dst="203.0.113.20", id=2, ttl=63)
        / tcp_syn(49152, 443)
    ]


def erspan_type3():
    """Return ERSPAN type III frames with and without the platform-specific subheader."""
    with_subheader = (
        outer_ether()
        / outer_ipv4()
        / GRE(seqnum_present=1, sequence_number=1, proto=GRE_PROTO_ERSPAN_III)
        / ERSPAN_III(ver=2, vlan=0, session_id=1023, timestamp=0x01020304, hw=1, o=1)
        / ERSPAN_PlatformSpecific(platf_id=3, info1=0x10, info2=0x0A0B0C0D)
        / inner_ether()
        / IPv6(src="2001:db8:1::10", dst="2001:db8:2::20", hlim=64)
        / dns_query(53000, "example.com")
    )
    # GRE over IPv6, and no subheader.
    without_subheader = (
        Ether(src=OUTER_MAC_SRC, dst=OUTER_MAC_DST)
        / IPv6(src="2001:db8:ffff::1", dst="2001:db8:ffff::2", hlim=64)
        / GRE(seqnum_present=1, sequence_number=2, proto=GRE_PROTO_ERSPAN_III)
        / ERSPAN_III(ver=2, vlan=10, session_id=5, timestamp=0x01020305, hw=1, o=0)
        / inner_ether()
        / IP(src="198.51.100.11", dst="203.0.113.21", id=3, ttl=63)
        / ICMP(type=8, code=0, id=0x77, seq=1)
        / Raw(b"erspan-iii")
    )
    return [with_subheader, without_subheader]


def erspan_type1():
    """Return an ERSPAN type I frame: GRE protocol 0x88BE, no sequence number, no header."""
    return [
        outer_ether()
        / outer_ipv4()
        / GRE(proto=GRE_PROTO_ERSPAN_I_II)
        / inner_ether()
        / IP(src="198.51.100.12", dst="203.0.113.22", id=4, ttl=63)
        / UDP(sport=5000, dport=5001)
        / Raw(b"erspan-i")
    ]


def gtpu_extension_header():
    """Return GTP-U G-PDUs with an extension header and with a sequence number, and an echo."""
    with_extension = (
        outer_ether()
        / IP(src="192.0.2.30", dst="192.0.2.40", id=5, ttl=64)
        / UDP(sport=GTP_U_PORT, dport=GTP_U_PORT)
        / GTP_U_Header(E=1, gtp_type=GTP_MESSAGE_GPDU, teid=0x1A2B3C4D,
                       next_ex=GTP_EXTENSION_PDU_SESSION_CONTAINER)
        / GTPPDUSessionContainer(type=1, QFI=9, NextExtHdr=0)
        / IP(src="10.45.0.2", dst="198.51.100.53", id=6, ttl=64)
        / dns_query(40000, "example.org")
    )
    with_sequence = (
        outer_ether()
        / IP(src="192.0.2.40", dst="192.0.2.30", id=7, ttl=64)
        / UDP(sport=40001, dport=GTP_U_PORT)
        / GTP_U_Header(S=1, seq=0x0102, gtp_type=GTP_MESSAGE_GPDU, teid=0x00000042)
        / IPv6(src="2001:db8:45::2", dst="2001:db8:100::443", hlim=64)
        / tcp_syn(50000, 443)
    )
    echo_request = (
        outer_ether()
        / IP(src="192.0.2.30", dst="192.0.2.40", id=8, ttl=64)
        / UDP(sport=GTP_U_PORT, dport=GTP_U_PORT)
        / GTP_U_Header(S=1, seq=0x0003, gtp_type=GTP_MESSAGE_ECHO_REQUEST, teid=0)
    )
    return [with_extension, with_sequence, echo_request]


def gre_key_sequence():
    """Return GRE frames with key and sequence number, and with checksum added."""
    key_and_sequence = (
        outer_ether()
        / outer_ipv4(ip_id=9)
        / GRE(key_present=1, key=0x00001001, seqnum_present=1, sequence_number=42,
              proto=0x0800)
        / IP(src="10.1.1.1", dst="10.2.2.2", id=10, ttl=64)
        / tcp_syn(34567, 22)
    )
    checksum_key_and_sequence = (
        outer_ether()
        / outer_ipv4(ip_id=11)
        / GRE(chksum_present=1, key_present=1, key=0xFFFFFFFE, seqnum_present=1,
              sequence_number=43, proto=0x86DD)
        / IPv6(src="2001:db8:a::1", dst="2001:db8:b::2", hlim=64)
        / UDP(sport=51000, dport=123)
        / Raw(b"\x23" + b"\x00" * 47)
    )
    return [key_and_sequence, checksum_key_and_sequence]


def gre_transparent_ethernet():
    """Return a GRE transparent Ethernet bridging frame with a key and two inner VLAN tags."""
    return [
        outer_ether()
        / outer_ipv4(ip_id=12)
        / GRE(key_present=1, key=0x00ABCD01, proto=GRE_PROTO_TRANSPARENT_ETHERNET)
        / inner_ether()
        / Dot1AD(vlan=300)
        / Dot1Q(vlan=301)
        / IP(src="10.3.3.3", dst="10.4.4.4", id=13, ttl=64)
        / UDP(sport=123, dport=123)
        / Raw(b"\x23" + b"\x00" * 47)
    ]


def mpls_in_gre():
    """Return a frame with a two-label MPLS stack inside GRE (RFC 4023)."""
    return [
        outer_ether()
        / outer_ipv4(ip_id=14)
        / GRE(proto=GRE_PROTO_MPLS)
        / MPLS(label=1000, cos=0, s=0, ttl=64)
        / MPLS(label=2000, cos=0, s=1, ttl=64)
        / IP(src="172.16.0.1", dst="172.16.0.2", id=15, ttl=64)
        / TCP(sport=80, dport=55000, flags="SA", seq=5000, ack=1001, window=65160)
    ]


def ipv6_in_ipv4():
    """Return a 6in4 frame: IPv6 inside IPv4 protocol 41 (RFC 4213)."""
    return [
        outer_ether()
        / IP(src="192.0.2.50", dst="192.0.2.51", id=16, ttl=64, proto=41)
        / IPv6(src="2001:db8:6::1", dst="2001:db8:6::2", hlim=64)
        / ICMPv6EchoRequest(id=0x42, seq=1, data=b"6in4")
    ]


def ip_in_ip():
    """Return IPv4 in IPv4, IPv4 in IPv6 and IPv6 in IPv6 frames."""
    ipv4_in_ipv4 = (
        outer_ether()
        / IP(src="192.0.2.60", dst="192.0.2.61", id=17, ttl=64, proto=4)
        / IP(src="10.6.0.1", dst="10.6.0.2", id=18, ttl=64)
        / ICMP(type=8, code=0, id=0x99, seq=3)
        / Raw(b"ipip")
    )
    ipv4_in_ipv6 = (
        Ether(src=OUTER_MAC_SRC, dst=OUTER_MAC_DST)
        / IPv6(src="2001:db8:60::1", dst="2001:db8:60::2", hlim=64, nh=4)
        / IP(src="10.6.0.3", dst="10.6.0.4", id=19, ttl=64)
        / UDP(sport=33000, dport=514)
        / Raw(b"<13>ipip")
    )
    ipv6_in_ipv6 = (
        Ether(src=OUTER_MAC_SRC, dst=OUTER_MAC_DST)
        / IPv6(src="2001:db8:60::1", dst="2001:db8:60::2", hlim=64, nh=41)
        / IPv6(src="2001:db8:61::1", dst="2001:db8:61::2", hlim=64)
        / tcp_syn(44000, 8443)
    )
    return [ipv4_in_ipv4, ipv4_in_ipv6, ipv6_in_ipv6]


def tunnel_stack():
    """Return frames with three nested tunnels (the decoder's limit) and with four."""
    three_deep = (
        outer_ether()
        / outer_ipv4(ip_id=20)
        / GRE(proto=0x0800)
        / IP(src="10.7.0.1", dst="10.7.0.2", id=21, ttl=64)
        / UDP(sport=49999, dport=VXLAN_PORT)
        / VXLAN(flags=0x08, vni=77)
        / inner_ether()
        / IP(src="10.8.0.1", dst="10.8.0.2", id=22, ttl=64, proto=4)
        / IP(src="10.9.0.1", dst="10.9.0.2", id=23, ttl=64)
        / tcp_syn(45000, 25)
    )
    four_deep = (
        outer_ether()
        / outer_ipv4(ip_id=24)
        / GRE(proto=0x0800)
        / IP(src="10.7.0.1", dst="10.7.0.2", id=25, ttl=64)
        / UDP(sport=49999, dport=VXLAN_PORT)
        / VXLAN(flags=0x08, vni=77)
        / inner_ether()
        / IP(src="10.8.0.1", dst="10.8.0.2", id=26, ttl=64, proto=4)
        / IP(src="10.9.0.1", dst="10.9.0.2", id=27, ttl=64)
        / UDP(sport=GTP_U_PORT, dport=GTP_U_PORT)
        / GTP_U_Header(gtp_type=GTP_MESSAGE_GPDU, teid=0x00000099)
        / IP(src="10.10.0.1", dst="10.10.0.2", id=28, ttl=64)
        / tcp_syn(46000, 25)
    )
    return [three_deep, four_deep]


def gre_unsupported():
    """Return GRE frames the decoder does not follow: NSH, PPTP version 1, RFC 1701 routing."""
    unknown_protocol = (
        outer_ether()
        / outer_ipv4(ip_id=29)
        / GRE(proto=GRE_PROTO_NSH)
        / NSH(mdtype=2, nextproto=3, spi=0x000042, si=255)
        / inner_ether()
        / IP(src="10.11.0.1", dst="10.11.0.2", id=30, ttl=64)
        / UDP(sport=5002, dport=5003)
    )
    pptp = (
        outer_ether()
        / outer_ipv4(ip_id=31)
        / GRE_PPTP(seqnum_present=1, call_id=0x4001, sequence_number=0)
        / PPP(proto=0x0021)
        / IP(src="10.12.0.1", dst="10.12.0.2", id=32, ttl=64)
        / UDP(sport=5004, dport=5005)
    )
    # Routing present: the checksum and offset fields follow, then source route entries,
    # here only the all-zero entry that ends the list (tshark dissects it so).
    routing = (
        outer_ether()
        / outer_ipv4(ip_id=33)
        / GRE(routing_present=1, chksum=0, offset=0, proto=0x0800)
        / Raw(b"\x00\x00\x00\x00")
        / IP(src="10.13.0.1", dst="10.13.0.2", id=34, ttl=64)
        / UDP(sport=5006, dport=5007)
    )
    return [unknown_protocol, pptp, routing]


def geneve_vxlan_gpe():
    """Return Geneve (UDP 6081) and VXLAN-GPE (UDP 4790) frames, which the decoder rejects."""
    geneve = (
        outer_ether()
        / outer_ipv4(ip_id=35)
        / UDP(sport=50100, dport=GENEVE_PORT)
        / GENEVE(vni=0x123456, proto=GRE_PROTO_TRANSPARENT_ETHERNET)
        / inner_ether()
        / IP(src="10.14.0.1", dst="10.14.0.2", id=36, ttl=64)
        / tcp_syn(47000, 80)
    )
    # Flags I and P, next protocol 1 (IPv4).
    vxlan_gpe = (
        outer_ether()
        / outer_ipv4(ip_id=37)
        / UDP(sport=50101, dport=VXLAN_GPE_PORT)
        / VXLAN(flags=0x0C, NextProtocol=1, vni=0x000321)
        / IP(src="10.15.0.1", dst="10.15.0.2", id=38, ttl=64)
        / UDP(sport=5008, dport=5009)
    )
    return [geneve, vxlan_gpe]


CAPTURES = {
    "erspan-type2.pcap": erspan_type2,
    "erspan-type3.pcap": erspan_type3,
    "erspan-type1.pcap": erspan_type1,
    "gtpu-extension-header.pcap": gtpu_extension_header,
    "gre-key-sequence.pcap": gre_key_sequence,
    "gre-transparent-ethernet-vlan.pcap": gre_transparent_ethernet,
    "mpls-in-gre.pcap": mpls_in_gre,
    "ipv6-in-ipv4.pcap": ipv6_in_ipv4,
    "ip-in-ip.pcap": ip_in_ip,
    "tunnel-stack.pcap": tunnel_stack,
    "gre-unsupported.pcap": gre_unsupported,
    "geneve-vxlan-gpe.pcap": geneve_vxlan_gpe,
}


def write_capture(path, packets):
    # A fixed snaplen and link type keep the file header independent of the frames.
    with PcapWriter(path, linktype=1, snaplen=65535, sync=True) as writer:
        for index, packet in enumerate(packets):
            packet.time = BASE_TIME + index / 1000
            writer.write(packet)


def main():
    output_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        write_capture(os.path.join(output_dir, name), build())
        print(name)


if __name__ == "__main__":
    main()

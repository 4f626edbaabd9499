#!/usr/bin/env python3
"""Write the crafted application-layer captures that tests/integration/crafted_test.py replays.

They cover the hard matching cases. A TLS ClientHello is split across TCP segments or sent
out of order, DNS messages carry compression pointer loops, names are internationalised or
have trailing dots and mixed case, and payload patterns are split across segments. The last
capture connects to an address that a DNS answer gave for a listed domain. The indicators
they match are in tests/data/misp/crafted/app-cases.json.

Conventions are those of make_captures.py: scapy (tested with 2.5.0, Debian's
python3-scapy), fixed field values, documentation addresses (RFC 5737) and locally
administered MAC addresses, so a rerun writes byte-identical files. Frame i of a file is
stamped 2024-01-01T00:00:00Z plus i milliseconds, plus the total of the Pause entries
before it. SOURCES.md describes each file frame by frame.

Usage: make_app_captures.py [OUTPUT_DIR]   (default: the directory of this script)
"""

import os
import struct
import sys
from decimal import Decimal

import scapy
from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw
from scapy.layers.tls.all import (
    TLS,
    ServerName,
    TLS_Ext_ServerName,
    TLS_Ext_SupportedGroups,
    TLS_Ext_SupportedVersion_CH,
    TLSClientHello,
)
from scapy.utils import PcapWriter

# 2024-01-01T00:00:00Z, as in make_captures.py.
BASE_TIME = 1704067200

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"
CLIENT = "192.0.2.10"
RESOLVER = "192.0.2.53"

DNS_TYPE_A = 1
DNS_TYPE_NULL = 10
DNS_CLASS_IN = 1
DNS_FLAGS_RESPONSE = 0x8180  # QR, RD and RA set, RCODE 0.

TLS_CONTENT_HANDSHAKE = 22
TLS_VERSION_10 = 0x0301
TLS_VERSION_12 = 0x0303
TLS_VERSION_13 = 0x0304
# TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
# TLS_AES_128_GCM_SHA256.
CIPHER_SUITES = [0xC02F, 0xC030, 0x1301]
GROUP_X25519 = 0x001D
GROUP_SECP256R1 = 0x0017


class Pause:
    """A gap in capture time before the next frame, in seconds."""

    def __init__(self, seconds):
        self.seconds = seconds


class IpIds:
    """Hands out IPv4 identification values 1, 2, 3, ... within one capture."""

    def __init__(self):
        self.next_id = 1

    def take(self):
        value = self.next_id
        self.next_id += 1
        return value


def ipv4(ids, src, dst):
    return IP(src=src, dst=dst, id=ids.take(), ttl=64)


def ether(from_client):
    if from_client:
        return Ether(src=CLIENT_MAC, dst=SERVER_MAC)
    return Ether(src=SERVER_MAC, dst=CLIENT_MAC)


class TcpConnection:
    """Builds the frames of one TCP connection, keeping both sequence numbers.

    Data segments are built in stream order. To send them out of order, the caller
    reorders the returned frames.
    """

    def __init__(self, ids, client, client_port, server, server_port, client_isn, server_isn):
        self.ids = ids
        self.client = client
        self.client_port = client_port
        self.server = server
        self.server_port = server_port
        self.client_seq = client_isn
        self.server_seq = server_isn

    def _frame(self, from_client, flags, seq, ack, payload=b""):
        if from_client:
            addresses = ipv4(self.ids, self.client, self.server)
            ports = dict(sport=self.client_port, dport=self.server_port)
        else:
            addresses = ipv4(self.ids, self.server, self.client)
            ports = dict(sport=self.server_port, dport=self.client_port)
        segment = TCP(flags=flags, seq=seq, ack=ack, window=64240, **ports)
        frame = ether(from_client) / addresses / segment
        if payload:
            frame = frame / Raw(payload)
        return frame

    def handshake(self):
        """Return SYN, SYN-ACK and ACK. The SYN and the SYN-ACK each take one sequence number."""
        syn = self._frame(True, "S", self.client_seq, 0)
        self.client_seq += 1
        syn_ack = self._frame(False, "SA", self.server_seq, self.client_seq)
        self.server_seq += 1
        ack = self._frame(True, "A", self.client_seq, self.server_seq)
        return [syn, syn_ack, ack]

    def client_data(self, payload):
        frame = self._frame(True, "PA", self.client_seq, self.server_seq, payload)
        self.client_seq += len(payload)
        return frame

    def server_ack(self):
        return self._frame(False, "A", self.server_seq, self.client_seq)


def client_hello_record(server_name, tls13=False):
    """Return a TLS record with a ClientHello offering `server_name` in its SNI extension.

    The random is fixed so that the bytes do not change between runs. With `tls13` the
    hello also lists TLS 1.3 and 1.2 in supported_versions, as TLS 1.3 clients do.
    """
    extensions = [
        TLS_Ext_ServerName(servernames=[ServerName(servername=server_name.encode("ascii"))]),
        TLS_Ext_SupportedGroups(groups=[GROUP_X25519, GROUP_SECP256R1]),
    ]
    if tls13:
        extensions.append(TLS_Ext_SupportedVersion_CH(versions=[TLS_VERSION_13, TLS_VERSION_12]))
    hello = TLSClientHello(version=TLS_VERSION_12, gmt_unix_time=BASE_TIME,
                           random_bytes=bytes(range(28)), sid=b"", ciphers=CIPHER_SUITES,
                           comp=[0], ext=extensions)
    record = bytes(TLS(type=TLS_CONTENT_HANDSHAKE, version=TLS_VERSION_10, msg=[hello]))
    if record[0] != TLS_CONTENT_HANDSHAKE or record.find(server_name.encode("ascii")) < 0:
        raise RuntimeError(f"scapy {scapy.VERSION} built a ClientHello record that is not a "
                           f"handshake record or lacks the server name {server_name!r}. "
                           "Use scapy 2.5.0 (Debian 12 python3-scapy)")
    return record


def split_client_hello(record, server_name):
    """Split a ClientHello record into three pieces.

    The first piece is 3 bytes, so the 5-byte record header is cut after the version. The
    second ends in the middle of the server name, so no piece contains the whole name.
    """
    name_offset = record.find(server_name.encode("ascii"))
    middle = name_offset + len(server_name) // 2
    return [record[:3], record[3:middle], record[middle:]]


def tls_clienthello_split():
    """Return a TCP handshake and a TLS 1.2 ClientHello sent as 3 segments in order."""
    connection = TcpConnection(IpIds(), CLIENT, 49201, "203.0.113.10", 443, 1000, 5000)
    record = client_hello_record("split-hello.example")
    frames = connection.handshake()
    frames += [connection.client_data(piece)
               for piece in split_client_hello(record, "split-hello.example")]
    frames.append(connection.server_ack())
    return frames


def tls_clienthello_out_of_order():
    """Return a ClientHello in 3 segments sent 2nd, 1st, 2nd again (retransmission), 3rd."""
    connection = TcpConnection(IpIds(), CLIENT, 49202, "203.0.113.11", 443, 2000, 6000)
    name = "www.out-of-order-hello.example"
    record = client_hello_record(name)
    handshake = connection.handshake()
    first, second, third = [connection.client_data(piece)
                            for piece in split_client_hello(record, name)]
    # The retransmission is a separate frame with its own IP id but the same TCP segment.
    second_again = second.copy()
    second_again[IP].id = 99
    return handshake + [second, first, second_again, third, connection.server_ack()]


def tls_sni_mixed_case():
    """Return a TLS 1.3 ClientHello in one segment whose SNI mixes upper and lower case."""
    connection = TcpConnection(IpIds(), CLIENT, 49203, "203.0.113.12", 443, 3000, 7000)
    frames = connection.handshake()
    frames.append(connection.client_data(client_hello_record("Www.MIXED-case.Example",
                                                             tls13=True)))
    frames.append(connection.server_ack())
    return frames


def dns_header(message_id, qdcount, ancount):
    return struct.pack("!HHHHHH", message_id, DNS_FLAGS_RESPONSE, qdcount, ancount, 0, 0)


def dns_label_name(*labels):
    """Encode labels in DNS wire format, ending with the root octet."""
    wire = b"".join(bytes([len(label)]) + label.encode("ascii") for label in labels)
    return wire + b"\x00"


def dns_pointer(offset):
    return struct.pack("!H", 0xC000 | offset)


def dns_question_fields():
    return struct.pack("!HH", DNS_TYPE_A, DNS_CLASS_IN)


def dns_record_fields(record_type, ttl, rdata):
    return struct.pack("!HHIH", record_type, DNS_CLASS_IN, ttl, len(rdata)) + rdata


def dns_self_pointer():
    """Return a response whose question name is a pointer to its own offset, 12."""
    return dns_header(0x0101, 1, 0) + dns_pointer(12) + dns_question_fields()


def dns_two_pointer_cycle():
    """Return a response with a cycle of two compression pointers at offsets 43 and 45.

    Question "cycle.example" at offset 12 ends at 31. Answer 1 (offset 31) points to it,
    and its 2-byte NULL RDATA (offset 43) is a pointer to offset 45. Answer 2's name at
    offset 45 is a pointer to 43, so following it leads 45 -> 43 -> 45 -> ...
    """
    question = dns_label_name("cycle", "example") + dns_question_fields()
    message = dns_header(0x0102, 1, 2) + question
    if len(message) != 31:
        raise RuntimeError(f"the question ends at offset {len(message)}, expected 31")
    answer_1 = dns_pointer(12) + dns_record_fields(DNS_TYPE_NULL, 60, dns_pointer(45))
    message += answer_1
    if len(message) != 45:
        raise RuntimeError(f"answer 1 ends at offset {len(message)}, expected 45")
    answer_2 = dns_pointer(43) + dns_record_fields(DNS_TYPE_A, 60, bytes([198, 51, 100, 92]))
    return message + answer_2


def dns_label_loop():
    """Return a response whose question name is label "loop" then a pointer back to it.

    Decoding it yields loop.loop.loop... until a decoder stops following pointers.
    """
    name = b"\x04loop" + dns_pointer(12)
    return dns_header(0x0103, 1, 0) + name + dns_question_fields()


def dns_name_too_long():
    """Return a response whose 4th question name is 265 octets long in wire format.

    Question 1 is a 63-octet label plus "example" (73 octets with the root octet). Each
    later question is another 63-octet label plus a pointer to the one before, so the
    names grow to 137, 201 and 265 octets, while RFC 1035 section 2.3.4 allows 255.
    """
    message = dns_header(0x0104, 4, 0)
    previous = len(message)
    message += dns_label_name("a" * 63, "example") + dns_question_fields()
    for letter in "bcd":
        start = len(message)
        message += bytes([63]) + (letter * 63).encode("ascii") + dns_pointer(previous)
        message += dns_question_fields()
        previous = start
    return message


def dns_response_frame(ids, client_port, message):
    return (ether(False) / ipv4(ids, RESOLVER, CLIENT) / UDP(sport=53, dport=client_port)
            / Raw(message))


def dns_compression_loop():
    """Return 4 malformed DNS responses, then a valid one for after-loops.example."""
    ids = IpIds()
    frames = [
        dns_response_frame(ids, 50001, dns_self_pointer()),
        dns_response_frame(ids, 50002, dns_two_pointer_cycle()),
        dns_response_frame(ids, 50003, dns_label_loop()),
        dns_response_frame(ids, 50004, dns_name_too_long()),
    ]
    valid = (ether(False) / ipv4(ids, RESOLVER, CLIENT) / UDP(sport=53, dport=50005)
             / DNS(id=0x0105, qr=1, rd=1, ra=1, qd=DNSQR(qname="after-loops.example"),
                   an=DNSRR(rrname="after-loops.example", type="A", ttl=300,
                            rdata="198.51.100.90")))
    frames.append(valid)
    return frames


def dns_query_and_answer(ids, client_port, message_id, name, address, ttl):
    """Return a query for the A record of `name` and its response with one answer."""
    query = (ether(True) / ipv4(ids, CLIENT, RESOLVER) / UDP(sport=client_port, dport=53)
             / DNS(id=message_id, rd=1, qd=DNSQR(qname=name)))
    response = (ether(False) / ipv4(ids, RESOLVER, CLIENT) / UDP(sport=53, dport=client_port)
                / DNS(id=message_id, qr=1, rd=1, ra=1, qd=DNSQR(qname=name),
                      an=DNSRR(rrname=name, type="A", ttl=ttl, rdata=address)))
    return [query, response]


def dns_idn():
    """Return a query and response for the A-label form of "bücher.example"."""
    # "bücher.example".encode("idna") in Python 3.11.
    return dns_query_and_answer(IpIds(), 50100, 0x0201, "xn--bcher-kva.example",
                                "198.51.100.91", 300)


def dns_mixed_case():
    """Return a query whose name mixes case, as resolvers using DNS 0x20 send them."""
    ids = IpIds()
    query = (ether(True) / ipv4(ids, CLIENT, RESOLVER) / UDP(sport=50200, dport=53)
             / DNS(id=0x0301, rd=1, qd=DNSQR(qname="WWW.Mixed-Case.EXAMPLE")))
    return [query]


def http_get(path, host):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: crafted-test/1.0\r\n"
            "Accept: */*\r\n\r\n").encode("ascii")


def http_host_trailing_dot():
    """Return two HTTP requests whose Host names end with a dot, the second with a port."""
    ids = IpIds()
    plain = TcpConnection(ids, CLIENT, 49401, "203.0.113.20", 80, 4000, 8000)
    frames = plain.handshake()
    frames.append(plain.client_data(http_get("/index.html", "www.trailing-dot.example.")))
    frames.append(plain.server_ack())
    with_port = TcpConnection(ids, CLIENT, 49402, "203.0.113.20", 8080, 4100, 8100)
    frames += with_port.handshake()
    frames.append(with_port.client_data(http_get("/", "WWW.Trailing-Dot.EXAMPLE.:8080")))
    frames.append(with_port.server_ack())
    return frames


# The request body, cut so that each payload pattern of app-cases.json spans segments:
# "split-literal-marker" the 1st and 2nd, "EVIL2024-PAYLOAD" the 2nd and 3rd, and
# "three-segment-marker" the 3rd, 4th and 5th.
PATTERN_BODY_PIECES = [
    b"upload begins, split-literal-",
    b"marker follows, then EVIL20",
    b"24-PAYLOAD and three-seg",
    b"ment-mar",
    b"ker, end of upload\n",
]


def pattern_split_segments():
    """Return an HTTP POST whose body carries three payload patterns across segments."""
    connection = TcpConnection(IpIds(), CLIENT, 49501, "203.0.113.30", 80, 9000, 10000)
    body_length = sum(len(piece) for piece in PATTERN_BODY_PIECES)
    head = ("POST /upload HTTP/1.1\r\nHost: upload.example\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {body_length}\r\n\r\n").encode("ascii")
    pieces = list(PATTERN_BODY_PIECES)
    pieces[0] = head + pieces[0]
    frames = connection.handshake()
    frames += [connection.client_data(piece) for piece in pieces]
    frames.append(connection.server_ack())
    return frames


def dns_resolved_follow_up():
    """Return a DNS lookup of a listed name, then, 2 s later, a connection to its address.

    The gap leaves a sensor that replays at recorded speed time to start watching the
    address before the connection begins.
    """
    ids = IpIds()
    frames = dns_query_and_answer(ids, 50300, 0x0401, "c2.resolved-follow-up.example",
                                  "198.51.100.80", 600)
    connection = TcpConnection(ids, CLIENT, 49601, "198.51.100.80", 443, 11000, 12000)
    frames.append(Pause(2))
    frames += connection.handshake()
    return frames


CAPTURES = {
    "tls-clienthello-split.pcap": tls_clienthello_split,
    "tls-clienthello-out-of-order.pcap": tls_clienthello_out_of_order,
    "tls-sni-mixed-case.pcap": tls_sni_mixed_case,
    "dns-compression-loop.pcap": dns_compression_loop,
    "dns-idn.pcap": dns_idn,
    "dns-mixed-case.pcap": dns_mixed_case,
    "http-host-trailing-dot.pcap": http_host_trailing_dot,
    "pattern-split-segments.pcap": pattern_split_segments,
    "dns-resolved-follow-up.pcap": dns_resolved_follow_up,
}


def write_capture(path, frames):
    # A fixed snaplen and link type keep the file header independent of the frames.
    # Decimal keeps the microseconds exact: BASE_TIME + i / 1000 as a float is not.
    pause = Decimal(0)
    index = 0
    with PcapWriter(path, linktype=1, snaplen=65535, sync=True) as writer:
        for frame in frames:
            if isinstance(frame, Pause):
                pause += Decimal(frame.seconds)
                continue
            frame.time = Decimal(BASE_TIME) + Decimal(index) / 1000 + pause
            writer.write(frame)
            index += 1


def main():
    output_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        write_capture(os.path.join(output_dir, name), build())
        print(name)


if __name__ == "__main__":
    main()

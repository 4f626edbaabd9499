#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets in tests/fuzz from the test data.

Packets come from the captures in tests/data/pcap and tests/data/crafted, read with the
standard library (pcap and pcapng, Ethernet framing); MISP, warninglist and configuration
seeds are copies of the files in tests/data and sensor/. Inputs that once failed a target
are kept in tests/fuzz/regressions/<target>/ and added to its seeds. Each target gets a
directory OUT/<target>/ of small files, one input each, named by the SHA-1 of their
contents.

Usage: make_seeds.py OUT_DIR
"""

import hashlib
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CAPTURES = sorted((DATA / "pcap").glob("*.pcap*")) + sorted((DATA / "crafted").glob("*.pcap"))

# Inputs larger than this are left out, so that a seed stays within the targets' -max_len.
MAX_SEED_BYTES = 64 * 1024


def read_pcap(data):
    """Yields the frames of a classic pcap file."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("not a pcap file")
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        yield data[offset:offset + captured]
        offset += captured


def read_pcapng(data):
    """Yields the frames of the enhanced and simple packet blocks of a pcapng file."""
    offset = 0
    endian = "<"
    while offset + 12 <= len(data):
        block_type = struct.unpack_from(endian + "I", data, offset)[0]
        if block_type == 0x0A0D0D0A:
            endian = "<" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        length = struct.unpack_from(endian + "I", data, offset + 4)[0]
        if length < 12:
            return
        if block_type == 6:
            captured = struct.unpack_from(endian + "I", data, offset + 20)[0]
            yield data[offset + 28:offset + 28 + captured]
        elif block_type == 3:
            yield data[offset + 12:offset + length - 4]
        offset += length


def read_frames(path):
    data = path.read_bytes()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return list(read_pcapng(data))
    return list(read_pcap(data))


def transport(frame):
    """Returns (protocol, src, dst, sport, dport, seq, payload) of an untunnelled TCP or
    UDP packet behind Ethernet and up to four VLAN tags, or None."""
    offset = 12
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, offset)[0]
    offset += 2
    for _ in range(4):
        if ethertype not in (0x8100, 0x88A8, 0x9100) or len(frame) < offset + 4:
            break
        ethertype = struct.unpack_from("!H", frame, offset + 2)[0]
        offset += 4
    if ethertype == 0x0800 and len(frame) >= offset + 20:
        header_length = (frame[offset] & 0x0F) * 4
        total_length = struct.unpack_from("!H", frame, offset + 2)[0]
        fragment = struct.unpack_from("!H", frame, offset + 6)[0]
        if fragment & 0x3FFF:
            return None
        protocol = frame[offset + 9]
        src, dst = frame[offset + 12:offset + 16], frame[offset + 16:offset + 20]
        end = min(len(frame), offset + total_length)
        offset += header_length
    elif ethertype == 0x86DD and len(frame) >= offset + 40:
        payload_length = struct.unpack_from("!H", frame, offset + 4)[0]
        protocol = frame[offset + 6]
        src, dst = frame[offset + 8:offset + 24], frame[offset + 24:offset + 40]
        end = min(len(frame), offset + 40 + payload_length)
        offset += 40
        # Hop-by-hop, routing and destination options headers.
        while protocol in (0, 43, 60) and len(frame) >= offset + 8:
            protocol = frame[offset]
            offset += (frame[offset + 1] + 1) * 8
    else:
        return None
    if protocol == 17 and end >= offset + 8:
        sport, dport = struct.unpack_from("!HH", frame, offset)
        return (17, src, dst, sport, dport, 0, frame[offset + 8:end])
    if protocol == 6 and end >= offset + 20:
        sport, dport, seq = struct.unpack_from("!HHI", frame, offset)
        data_offset = (frame[offset + 12] >> 4) * 4
        return (6, src, dst, sport, dport, seq, frame[offset + data_offset:end])
    return None


def client_segments(packets):
    """Groups TCP payloads by connection direction and yields the [(seq, payload)] list of
    each direction whose first payload starts a TLS record or an HTTP method."""
    flows = {}
    for packet in packets:
        protocol, src, dst, sport, dport, seq, payload = packet
        if protocol != 6 or not payload:
            continue
        flows.setdefault((src, dst, sport, dport), []).append((seq, payload))
    for segments in flows.values():
        first = segments[0][1]
        if first[0] == 0x16 or first[:4] in (b"GET ", b"POST", b"HEAD", b"PUT ", b"OPTI"):
            yield segments


def stream_bytes(segments):
    base = segments[0][0]
    buffer = bytearray()
    for seq, payload in sorted(segments, key=lambda item: (item[0] - base) & 0xFFFFFFFF):
        start = (seq - base) & 0xFFFFFFFF
        if start > len(buffer) or start > MAX_SEED_BYTES:
            break
        buffer[start:start + len(payload)] = payload
    return bytes(buffer)


class Provider:
    """Lays out an input for libFuzzer's FuzzedDataProvider, which takes integers from the
    end of the input (last byte first, as the most significant) and bytes from the start."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()

    def integral(self, value, size):
        for shift in range(size):
            self.back.append((value >> (8 * (size - 1 - shift))) & 0xFF)

    def consume_bytes(self, data):
        self.front += data

    def build(self):
        return bytes(self.front) + bytes(reversed(self.back))


def reassembly_seed(segments, order):
    """An input of fuzz_handshake_reassembly: the initial sequence number, then per segment
    the offset (FuzzedDataProvider maps the int16 range onto raw + INT16_MIN), the length
    and the bytes."""
    base = segments[0][0]
    provider = Provider()
    provider.integral(base, 4)
    for index in order:
        seq, payload = segments[index]
        offset = ((seq - base + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        if not -32768 <= offset <= 32767 or len(payload) >= 1600:
            return None
        provider.integral(offset + 32768, 2)
        provider.integral(len(payload), 2)
        provider.consume_bytes(payload)
    return provider.build()


def quic_crypto_frame(offset, data):
    def varint(value):
        if value < 0x40:
            return bytes([value])
        if value < 0x4000:
            return struct.pack("!H", 0x4000 | value)
        return struct.pack("!I", 0x80000000 | value)
    return b"\x06" + varint(offset) + varint(len(data)) + data


def quic_protected_seed(client_hello, chunk):
    """An input of fuzz_quic_initial's protected mode: the ClientHello message in CRYPTO
    frames of `chunk` bytes, one packet each, in order."""
    provider = Provider()
    provider.consume_bytes(b"\x01")  # The mode byte; FuzzedDataProvider reads what follows.
    packet_number = 0
    for start in range(0, len(client_hello), chunk):
        frames = quic_crypto_frame(start, client_hello[start:start + chunk])
        if len(frames) >= 1500 or packet_number >= 4:
            return None
        provider.integral(packet_number, 1)
        provider.integral(len(frames), 2)
        provider.consume_bytes(frames)
        packet_number += 1
    return provider.build()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUT_DIR")
    out = pathlib.Path(sys.argv[1])
    seeds = {}

    def add(target, data):
        if data is not None and 0 < len(data) <= MAX_SEED_BYTES:
            seeds.setdefault(target, set()).add(bytes(data))

    for capture in CAPTURES:
        frames = read_frames(capture)
        packets = []
        for frame in frames:
            add("fuzz_packet_decode", frame)
            packet = transport(frame)
            if packet is not None:
                packets.append(packet)
        for protocol, _, _, sport, dport, _, payload in packets:
            if not payload:
                continue
            if 53 in (sport, dport):
                add("fuzz_dns", payload)
            if protocol == 17 and dport == 443 and payload[0] & 0x80:
                add("fuzz_quic_initial", b"\x00" + payload)
        for segments in client_segments(packets):
            stream = stream_bytes(segments)
            if stream[:1] == b"\x16":
                add("fuzz_tls_client_hello", stream)
                record_length = struct.unpack_from("!H", stream, 3)[0] if len(stream) > 5 else 0
                if record_length and stream[5:6] == b"\x01":
                    message = stream[5:5 + record_length]
                    add("fuzz_tls_client_hello", message)
                    add("fuzz_quic_initial", quic_protected_seed(message, 1200))
                    add("fuzz_quic_initial", quic_protected_seed(message, 400))
            else:
                add("fuzz_http_request", stream)
            segments = segments[:8]
            add("fuzz_handshake_reassembly", reassembly_seed(segments, range(len(segments))))
            add("fuzz_handshake_reassembly",
                reassembly_seed(segments, reversed(range(len(segments)))))

    misp = DATA / "misp"
    events = sorted((misp / "events").glob("*.json")) + sorted((misp / "crafted").glob("*.json"))
    for path in events:
        add("fuzz_misp_event", path.read_bytes())
    for path in sorted((misp / "feed").glob("*.json")):
        target = "fuzz_feed_manifest" if path.name == "manifest.json" else "fuzz_misp_event"
        add(target, path.read_bytes())
    for path in sorted((misp / "restsearch").glob("*.json")):
        add("fuzz_rest_search", path.read_bytes())
        add("fuzz_misp_event", path.read_bytes())
    for path in sorted((misp / "warninglists").rglob("list.json")):
        add("fuzz_warninglist", path.read_bytes())
    for path in sorted(ROOT.glob("sensor/*.yaml")):
        add("fuzz_config", path.read_bytes())
    add("fuzz_config", b"workers: 4\nintelligence:\n  misp: [a.json, b.json]\n"
                       b"include-non-ids: true\nipfix: udp://127.0.0.1:4739\n")
    for requests in (
            b'{"command":"stats"}\n',
            b'{"command":"lookup","value":"198.51.100.7"}\n{"command":"indicators"}\n',
            b'{"command":"lookup","value":"http://example.com/a?b=c"}\r\n',
            b'{"command":"lookup","value":"www.example.com"}\n{"command":"lookup"}\n',
            b'{"command":"top-flows","count":5}\n{"command":"top-flows","count":-1}\n',
            b'{"command": 7}\n{"command": "format-disk"}\n[1,2]\nnot json\n\n'):
        add("fuzz_ctl_request", b"\x80" + requests)
    # Inputs that once crashed a target stay in its corpus, so every run tries them again.
    for path in sorted((ROOT / "tests" / "fuzz" / "regressions").glob("*/*")):
        add(path.parent.name, path.read_bytes())

    for target, inputs in sorted(seeds.items()):
        directory = out / target
        directory.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{target}: {len(inputs)} seeds")


if __name__ == "__main__":
    main()

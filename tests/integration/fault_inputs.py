"""Builders of damaged inputs for faults_test.py, all derived from the real captures and
MISP events in tests/data: captures cut at an odd byte or with a lying length field,
jumbo frames, and a MISP event of about 10 MB.

Every builder writes a new file and returns what it changed, so a test can ask tshark or
capinfos about the same file for the expected numbers.
"""

import copy
import json
import struct

PCAP_HEADER = 24
RECORD_HEADER = 16


def read_pcap(path):
    """Returns the file header and the records (header fields, frame bytes) of a
    little-endian microsecond pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise ValueError(f"{path}: not a little-endian microsecond pcap file")
    records = []
    offset = PCAP_HEADER
    while offset + RECORD_HEADER <= len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[offset:offset + RECORD_HEADER])
        frame = bytearray(data[offset + RECORD_HEADER:offset + RECORD_HEADER + caplen])
        records.append([sec, usec, length, frame])
        offset += RECORD_HEADER + caplen
    return bytearray(data[:PCAP_HEADER]), records


def write_pcap(path, header, records):
    out = bytearray(header)
    for sec, usec, length, frame in records:
        out += struct.pack("<IIII", sec, usec, len(frame), max(length, len(frame))) + frame
    with open(path, "wb") as f:
        f.write(out)


def ip_offset(frame):
    """Offset of the IP header after Ethernet and any 802.1Q tags, or None."""
    offset = 12
    ether_type = struct.unpack(">H", frame[offset:offset + 2])[0]
    while ether_type in (0x8100, 0x88A8, 0x9100):
        offset += 4
        ether_type = struct.unpack(">H", frame[offset:offset + 2])[0]
    if ether_type not in (0x0800, 0x86DD):
        return None
    return offset + 2


def ipv4_transport(frame):
    """(IP offset, transport offset, protocol) of an IPv4 frame, or None."""
    ip = ip_offset(frame)
    if ip is None or frame[ip] >> 4 != 4:
        return None
    return ip, ip + (frame[ip] & 0x0F) * 4, frame[ip + 9]


def lie_in_every(source, destination, rewrite):
    """Copies `source` with `rewrite(frame)` applied to each frame; `rewrite` returns
    True when it changed the frame. Returns the 1-based numbers of the changed frames."""
    header, records = read_pcap(source)
    changed = []
    for number, record in enumerate(records, start=1):
        if rewrite(record[3]):
            changed.append(number)
    write_pcap(destination, header, records)
    return changed


def set_ipv4_total_length(value):
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None:
            return False
        struct.pack_into(">H", frame, found[0] + 2, value)
        return True
    return rewrite


def set_ipv4_header_length(words):
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None:
            return False
        frame[found[0]] = 0x40 | words
        return True
    return rewrite


def set_tcp_data_offset(words):
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None or found[2] != 6:
            return False
        tcp = found[1]
        frame[tcp + 12] = (words << 4) | (frame[tcp + 12] & 0x0F)
        return True
    return rewrite


def set_udp_length(value):
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None or found[2] != 17:
            return False
        struct.pack_into(">H", frame, found[1] + 4, value)
        return True
    return rewrite


def set_ipv6_payload_length(value):
    def rewrite(frame):
        ip = ip_offset(frame)
        if ip is None or frame[ip] >> 4 != 6:
            return False
        struct.pack_into(">H", frame, ip + 4, value)
        return True
    return rewrite


def set_dns_counts(questions, answers):
    """Sets QDCOUNT and ANCOUNT of DNS over UDP port 53."""
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None or found[2] != 17:
            return False
        udp = found[1]
        ports = struct.unpack(">HH", frame[udp:udp + 4])
        if 53 not in ports:
            return False
        struct.pack_into(">HH", frame, udp + 8 + 4, questions, answers)
        return True
    return rewrite


def set_tls_client_hello_lengths(record_length, handshake_length):
    """Sets the record and handshake lengths of TCP segments that start a ClientHello."""
    def rewrite(frame):
        found = ipv4_transport(frame)
        if found is None or found[2] != 6:
            return False
        payload = found[1] + (frame[found[1] + 12] >> 4) * 4
        if len(frame) < payload + 9 or frame[payload] != 0x16 or frame[payload + 5] != 1:
            return False
        struct.pack_into(">H", frame, payload + 3, record_length)
        frame[payload + 6:payload + 9] = handshake_length.to_bytes(3, "big")
        return True
    return rewrite


def cut_at(source, destination, size):
    with open(source, "rb") as f:
        data = f.read(size)
    with open(destination, "wb") as f:
        f.write(data)


def pcapng_blocks(data):
    """(offset, type, total length) of each block of a little-endian pcapng file."""
    blocks = []
    offset = 0
    while offset + 12 <= len(data):
        block_type, length = struct.unpack("<II", data[offset:offset + 8])
        blocks.append((offset, block_type, length))
        offset += length
    return blocks


def break_pcapng_block_length(source, destination, packet_index, length):
    """Sets the leading total length of the packet_index-th (0-based) Enhanced Packet
    Block. Returns the offset of that block."""
    with open(source, "rb") as f:
        data = bytearray(f.read())
    packets = [b for b in pcapng_blocks(data) if b[1] == 6]
    offset = packets[packet_index][0]
    struct.pack_into("<I", data, offset + 4, length)
    with open(destination, "wb") as f:
        f.write(data)
    return offset


def set_snaplen(source, destination, snaplen):
    """Writes the pcap with a smaller snap length in the file header and the records as
    they were, so some records are longer than the snap length claims."""
    header, records = read_pcap(source)
    struct.pack_into("<I", header, 16, snaplen)
    write_pcap(destination, header, records)
    return [n for n, r in enumerate(records, start=1) if len(r[3]) > snaplen]


def jumbo_frames(source, destination, size, marker, tail_marker=b""):
    """Pads the TCP payload of the frames that carry one to make `size`-byte frames,
    with `marker` right after the original payload and `tail_marker` as the frame's last
    bytes. IPv4 total lengths follow; TCP checksums are not recomputed. Returns the
    numbers of the grown frames."""
    header, records = read_pcap(source)
    struct.pack_into("<I", header, 16, 65535)
    grown = []
    for number, record in enumerate(records, start=1):
        frame = record[3]
        found = ipv4_transport(frame)
        if found is None or found[2] != 6:
            continue
        ip, tcp, _ = found
        payload = tcp + (frame[tcp + 12] >> 4) * 4
        total = struct.unpack(">H", frame[ip + 2:ip + 4])[0]
        if ip + total <= payload:
            continue
        del frame[ip + total:]  # Ethernet padding, if any.
        frame += marker + b"x" * (size - len(frame) - len(marker) - len(tail_marker))
        frame += tail_marker
        struct.pack_into(">H", frame, ip + 2, len(frame) - ip)
        record[2] = len(frame)
        grown.append(number)
    write_pcap(destination, header, records)
    return grown


def large_event(source, destination, target_bytes):
    """Writes a MISP event of at least `target_bytes`: the source event with its
    top-level ip-dst and domain attributes repeated, each copy with a distinct value
    and uuid. Returns the number of to_ids attributes per type in the new event."""
    with open(source, encoding="utf-8") as f:
        event = json.load(f)
    templates = [a for a in event["Event"].get("Attribute", [])
                 if a.get("type") in ("ip-dst", "domain")]
    if not templates:
        raise ValueError(f"{source}: no top-level ip-dst or domain attribute to repeat")

    attributes = []
    event["Event"]["Attribute"] = attributes
    event["Event"]["Object"] = []
    size = len(json.dumps(event))
    index = 0
    while size < target_bytes:
        template = templates[index % len(templates)]
        copy_of = copy.deepcopy(template)
        copy_of["uuid"] = f"5f0c0000-0000-4000-8000-{index:012d}"
        copy_of["id"] = str(1000000 + index)
        copy_of["to_ids"] = True
        copy_of.pop("deleted", None)
        if template["type"] == "ip-dst":
            copy_of["value"] = f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
        else:
            copy_of["value"] = f"host{index}.large-event.example"
        attributes.append(copy_of)
        size += len(json.dumps(copy_of)) + 2
        index += 1
    with open(destination, "w", encoding="utf-8") as f:
        json.dump(event, f)

    counts = {}
    for attribute in attributes:
        counts[attribute["type"]] = counts.get(attribute["type"], 0) + 1
    return counts


def many_flows(source, destination, count):
    """Writes `count` copies of the first frame of `source` (IPv4 UDP), each with its own
    UDP source port and 1 ms apart, so each copy is a flow of its own. The UDP checksum
    is set to 0 (none), which IPv4 allows."""
    header, records = read_pcap(source)
    sec, usec, length, frame = records[0]
    ip, udp, protocol = ipv4_transport(frame)
    if protocol != 17:
        raise ValueError(f"{source}: the first frame is not UDP")
    copies = []
    for index in range(count):
        copy_of = bytearray(frame)
        struct.pack_into(">H", copy_of, udp, 10000 + index)
        struct.pack_into(">H", copy_of, udp + 6, 0)
        micros = usec + index * 1000
        copies.append([sec + micros // 1000000, micros % 1000000, length, copy_of])
    write_pcap(destination, header, copies)

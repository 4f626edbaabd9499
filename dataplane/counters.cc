#include "dataplane/counters.h"

namespace sensor::dp {

const std::array<CounterInfo, kCounterCount>& CounterTable() {
  static constexpr std::array<CounterInfo, kCounterCount> kTable = {{
      {"rx_packets", "Packets handed to this lcore"},
      {"rx_bytes", "Bytes of those packets, as captured"},
      {"decoded_packets", "Packets decoded down to an IPv4 or IPv6 header"},
      {"ipv4_packets", "Decoded IPv4 packets"},
      {"ipv6_packets", "Decoded IPv6 packets"},
      {"fragments", "IP fragments (first and later ones)"},
      {"flows_created", "Flow table entries created"},
      {"flows_ended", "Flows ended by TCP FIN/RST, idle timeout or shutdown"},
      {"flows_evicted", "Flows evicted early because their bucket was full"},
      {"flow_table_full", "Packets not tracked because no flow entry could be made"},
      {"address_matches", "Flow directions whose addresses matched an indicator"},
      {"alerts_queued", "Alert records handed to the control thread"},
      {"alert_ring_full", "Alert records that found the record ring full (retried next packet)"},
      {"flow_records_queued", "Flow records handed to the control thread"},
      {"flow_record_ring_full", "Flow records dropped because the record ring was full"},
      {"snapshot_switches", "Times this lcore picked up a new indicator snapshot"},
      {"payload_block_scans", "Packet payloads scanned for patterns one by one (not TCP)"},
      {"payload_stream_bytes", "TCP payload bytes scanned for patterns in stream mode"},
      {"pattern_matches", "Pattern matches in payloads"},
      {"streams_opened", "Pattern streams opened for TCP flow directions"},
      {"stream_open_failed", "TCP directions scanned packet by packet: no stream state"},
      {"stream_depth_reached", "TCP directions whose stream scan stopped at the depth limit"},
      {"stream_gaps", "TCP segments that arrived after a gap, so the stream skipped data"},
      {"session_table_full", "Flows that needed per-flow payload state but found none free"},
      {"dns_messages", "DNS messages parsed (UDP, or whole in one TCP segment)"},
      {"dns_malformed", "DNS messages that failed to parse (bad names, pointer loops, ...)"},
      {"tls_client_hellos", "TLS ClientHellos read, possibly from several segments"},
      {"http_requests", "HTTP/1.x request heads read (first request of a connection)"},
      {"quic_client_hellos", "ClientHellos read from decrypted QUIC Initial packets"},
      {"names_not_canonical", "Names from traffic that could not be canonicalised"},
      {"name_matches", "Names from traffic that matched a domain indicator"},
      {"url_matches", "HTTP request URLs that matched a URL indicator"},
      {"resolved_queued", "Addresses from DNS answers for listed domains sent to be watched"},
      {"resolved_ring_full", "Such addresses dropped because the record ring was full"},
      {"handshake_given_up", "Client handshakes not read: out of order beyond the buffer"},
      {"multi_segment_frames", "Frames in several mbuf segments, copied to be inspected whole"},
  }};
  return kTable;
}

}  // namespace sensor::dp

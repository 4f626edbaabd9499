#include "ctrlplane/ipfix/ipfix_encoder.h"

#include <cassert>
#include <cstring>

namespace sensor::ctl {
namespace {

constexpr uint16_t kEnterpriseBit = 0x8000;

std::vector<IpfixField> FlowFields(bool ipv6, uint32_t enterprise_number) {
  namespace ie = ipfix_ie;
  const uint16_t address_length = ipv6 ? 16 : 4;
  return {
      {ie::kFlowId, 8, 0},
      {ie::kFlowStartMilliseconds, 8, 0},
      {ie::kFlowEndMilliseconds, 8, 0},
      {ie::kOctetDeltaCount, 8, 0},
      {ie::kPacketDeltaCount, 8, 0},
      {ie::kOctetDeltaCount, 8, kReverseEnterpriseNumber},
      {ie::kPacketDeltaCount, 8, kReverseEnterpriseNumber},
      {ipv6 ? ie::kSourceIpv6Address : ie::kSourceIpv4Address, address_length, 0},
      {ipv6 ? ie::kDestinationIpv6Address : ie::kDestinationIpv4Address, address_length, 0},
      {ie::kSourceTransportPort, 2, 0},
      {ie::kDestinationTransportPort, 2, 0},
      // The reverse flags come before the forward ones because nfdump 1.7.1 stores a
      // reverse tcpControlBits in the same slot as the forward one, so the last one wins.
      {ie::kTcpControlBits, 2, kReverseEnterpriseNumber},
      {ie::kTcpControlBits, 2, 0},
      {ie::kVlanId, 2, 0},
      {ie::kDot1qCustomerVlanId, 2, 0},
      {ie::kProtocolIdentifier, 1, 0},
      {ie::kIpVersion, 1, 0},
      {ie::kFlowEndReason, 1, 0},
      {ie::kAlertFlag, 1, enterprise_number},
      {ie::kAlertTotalCount, 4, enterprise_number},
  };
}

size_t RecordLength(const std::vector<IpfixField>& fields) {
  size_t length = 0;
  for (const IpfixField& field : fields) length += field.length;
  return length;
}

size_t TemplateRecordLength(const std::vector<IpfixField>& fields) {
  size_t length = 4;  // Template ID and Field Count.
  for (const IpfixField& field : fields) length += field.enterprise != 0 ? 8 : 4;
  return length;
}

void AppendTemplateRecord(uint16_t template_id, const std::vector<IpfixField>& fields,
                          IpfixMessageBuilder& builder) {
  std::span<uint8_t> out = builder.Append(TemplateRecordLength(fields));
  uint8_t* cursor = out.data();
  StoreBigEndian16(cursor, template_id);
  StoreBigEndian16(cursor + 2, static_cast<uint16_t>(fields.size()));
  cursor += 4;
  for (const IpfixField& field : fields) {
    const bool enterprise = field.enterprise != 0;
    StoreBigEndian16(cursor, static_cast<uint16_t>(field.id | (enterprise ? kEnterpriseBit : 0)));
    StoreBigEndian16(cursor + 2, field.length);
    cursor += 4;
    if (enterprise) {
      StoreBigEndian32(cursor, field.enterprise);
      cursor += 4;
    }
  }
}

uint64_t Milliseconds(uint64_t unix_ns) { return unix_ns / 1'000'000; }

// Writes `value` in `length` big-endian bytes.
void StoreUnsigned(uint8_t* out, uint16_t length, uint64_t value) {
  switch (length) {
    case 1:
      out[0] = static_cast<uint8_t>(value);
      break;
    case 2:
      StoreBigEndian16(out, static_cast<uint16_t>(value));
      break;
    case 4:
      StoreBigEndian32(out, static_cast<uint32_t>(value));
      break;
    default:
      StoreBigEndian64(out, value);
      break;
  }
}

void StoreAddress(uint8_t* out, uint16_t length, const dp::IpAddress& address) {
  // IPv4 addresses are held IPv4-mapped: the last four bytes are the address.
  std::memcpy(out, address.bytes.data() + (16 - length), length);
}

// The value of an integer IANA element in the forward direction.
uint64_t ForwardValue(uint16_t id, const dp::FlowRecord& record) {
  namespace ie = ipfix_ie;
  switch (id) {
    case ie::kFlowId:
      return record.flow_id;
    case ie::kFlowStartMilliseconds:
      return Milliseconds(record.delta_first_ns);
    case ie::kFlowEndMilliseconds:
      return Milliseconds(record.last_ns);
    case ie::kOctetDeltaCount:
      return record.delta_bytes[0];
    case ie::kPacketDeltaCount:
      return record.delta_packets[0];
    case ie::kSourceTransportPort:
      return record.tuple.src_port;
    case ie::kDestinationTransportPort:
      return record.tuple.dst_port;
    case ie::kTcpControlBits:
      return record.tcp_flags[0];
    case ie::kVlanId:
      return record.tuple.vlan_outer;
    case ie::kDot1qCustomerVlanId:
      return record.tuple.vlan_inner;
    case ie::kProtocolIdentifier:
      return record.tuple.protocol;
    case ie::kIpVersion:
      return record.tuple.ip_version;
    case ie::kFlowEndReason:
      return static_cast<uint64_t>(record.reason);
    default:
      return 0;
  }
}

uint64_t ReverseValue(uint16_t id, const dp::FlowRecord& record) {
  namespace ie = ipfix_ie;
  switch (id) {
    case ie::kOctetDeltaCount:
      return record.delta_bytes[1];
    case ie::kPacketDeltaCount:
      return record.delta_packets[1];
    case ie::kTcpControlBits:
      return record.tcp_flags[1];
    default:
      return 0;
  }
}

uint64_t EnterpriseValue(uint16_t id, const dp::FlowRecord& record) {
  switch (id) {
    case ipfix_ie::kAlertTotalCount:
      return record.alerts;
    case ipfix_ie::kAlertFlag:
      return record.has_alerts != 0 ? 1 : 0;
    default:
      return 0;
  }
}

bool IsAddress(uint16_t id) {
  namespace ie = ipfix_ie;
  return id == ie::kSourceIpv4Address || id == ie::kDestinationIpv4Address ||
         id == ie::kSourceIpv6Address || id == ie::kDestinationIpv6Address;
}

}  // namespace

void StoreBigEndian16(uint8_t* out, uint16_t value) {
  out[0] = static_cast<uint8_t>(value >> 8);
  out[1] = static_cast<uint8_t>(value);
}

void StoreBigEndian32(uint8_t* out, uint32_t value) {
  StoreBigEndian16(out, static_cast<uint16_t>(value >> 16));
  StoreBigEndian16(out + 2, static_cast<uint16_t>(value));
}

void StoreBigEndian64(uint8_t* out, uint64_t value) {
  StoreBigEndian32(out, static_cast<uint32_t>(value >> 32));
  StoreBigEndian32(out + 4, static_cast<uint32_t>(value));
}

IpfixMessageBuilder::IpfixMessageBuilder(size_t max_length) : max_length_(max_length) {
  buffer_.reserve(max_length);
  Reset();
}

void IpfixMessageBuilder::Reset() {
  buffer_.assign(kIpfixMessageHeaderLength, 0);
  set_start_ = kNoSet;
  set_id_ = 0;
}

void IpfixMessageBuilder::BeginSet(uint16_t set_id) {
  assert(!in_set());
  set_start_ = buffer_.size();
  set_id_ = set_id;
  buffer_.resize(buffer_.size() + kIpfixSetHeaderLength, 0);
}

std::span<uint8_t> IpfixMessageBuilder::Append(size_t length) {
  assert(in_set());
  const size_t start = buffer_.size();
  buffer_.resize(start + length, 0);
  return std::span<uint8_t>(buffer_.data() + start, length);
}

void IpfixMessageBuilder::EndSet(size_t record_length) {
  assert(in_set());
  const size_t padding = (4 - (buffer_.size() - set_start_) % 4) % 4;
  if (padding != 0 && padding < record_length && buffer_.size() + padding <= max_length_) {
    buffer_.resize(buffer_.size() + padding, 0);
  }
  StoreBigEndian16(buffer_.data() + set_start_, set_id_);
  StoreBigEndian16(buffer_.data() + set_start_ + 2,
                   static_cast<uint16_t>(buffer_.size() - set_start_));
  set_start_ = kNoSet;
}

std::span<const uint8_t> IpfixMessageBuilder::Finish(uint32_t export_time_s, uint32_t sequence,
                                                     uint32_t observation_domain) {
  assert(!in_set());
  uint8_t* header = buffer_.data();
  StoreBigEndian16(header, kIpfixVersion);
  StoreBigEndian16(header + 2, static_cast<uint16_t>(buffer_.size()));
  StoreBigEndian32(header + 4, export_time_s);
  StoreBigEndian32(header + 8, sequence);
  StoreBigEndian32(header + 12, observation_domain);
  return buffer_;
}

IpfixFlowTemplates::IpfixFlowTemplates(uint32_t enterprise_number)
    : fields_v4_(FlowFields(/*ipv6=*/false, enterprise_number)),
      fields_v6_(FlowFields(/*ipv6=*/true, enterprise_number)),
      record_length_v4_(RecordLength(fields_v4_)),
      record_length_v6_(RecordLength(fields_v6_)),
      enterprise_number_(enterprise_number) {}

size_t IpfixFlowTemplates::template_set_length() const {
  return kIpfixSetHeaderLength + TemplateRecordLength(fields_v4_) +
         TemplateRecordLength(fields_v6_);
}

void IpfixFlowTemplates::AppendTemplateSet(IpfixMessageBuilder& builder) const {
  builder.BeginSet(kIpfixTemplateSetId);
  AppendTemplateRecord(kTemplateIdIpv4, fields_v4_, builder);
  AppendTemplateRecord(kTemplateIdIpv6, fields_v6_, builder);
  // Template Records are multiples of 4 bytes, so the set needs no padding.
  builder.EndSet(/*record_length=*/0);
}

void IpfixFlowTemplates::EncodeRecord(const dp::FlowRecord& record, std::span<uint8_t> out) const {
  const bool ipv6 = record.tuple.ip_version == 6;
  assert(out.size() == record_length(ipv6));
  uint8_t* cursor = out.data();
  for (const IpfixField& field : fields(ipv6)) {
    if (field.enterprise == kReverseEnterpriseNumber) {
      StoreUnsigned(cursor, field.length, ReverseValue(field.id, record));
    } else if (field.enterprise == enterprise_number_ && field.enterprise != 0) {
      StoreUnsigned(cursor, field.length, EnterpriseValue(field.id, record));
    } else if (field.id == ipfix_ie::kSourceIpv4Address ||
               field.id == ipfix_ie::kSourceIpv6Address) {
      StoreAddress(cursor, field.length, record.tuple.src);
    } else if (IsAddress(field.id)) {
      StoreAddress(cursor, field.length, record.tuple.dst);
    } else {
      StoreUnsigned(cursor, field.length, ForwardValue(field.id, record));
    }
    cursor += field.length;
  }
}

}  // namespace sensor::ctl

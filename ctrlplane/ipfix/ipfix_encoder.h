// IPFIX message encoding (RFC 7011) of flow records: the message header, Template Sets
// and Data Sets, with the Information Elements of RFC 7012 (IANA's registry) and the
// reverse elements of RFC 5103 for biflows.
//
// Each flow record becomes one Data Record of a biflow. The forward direction is the
// flow's initiator (the sender of its first packet). The reverse counters and TCP flags
// describe the responder's packets, under the reverse Private Enterprise Number 29305.
// IPv4 and IPv6 flows use separate templates (kTemplateIdIpv4, kTemplateIdIpv6).
//
// Besides IANA's elements, every record carries two enterprise-specific elements under a
// configurable Private Enterprise Number (PEN). This project has no registered PEN, so the
// default is 32473, the documentation PEN of RFC 5612; a deployment that owns a PEN sets
// it with --ipfix-enterprise-number:
//   element 1001, alertTotalCount (unsigned32): alert records the flow raised from its
//     start up to this record;
//   element 1002, alertFlag (unsigned8): 1 if the flow raised an alert, else 0.
// Their ids differ from those of the reverse elements (1, 2 and 6) because pmacct 1.7.7
// reads a template's second enterprise element with a given id wrongly, whatever its PEN.
//
// Control thread only. Plain byte building, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/records.h"

namespace sensor::ctl {

inline constexpr uint16_t kIpfixVersion = 10;
inline constexpr size_t kIpfixMessageHeaderLength = 16;
inline constexpr size_t kIpfixSetHeaderLength = 4;
inline constexpr uint16_t kIpfixTemplateSetId = 2;
inline constexpr uint16_t kTemplateIdIpv4 = 256;
inline constexpr uint16_t kTemplateIdIpv6 = 257;
// RFC 5103: reverse Information Elements are the forward ones under this PEN.
inline constexpr uint32_t kReverseEnterpriseNumber = 29305;
// RFC 5612: the PEN reserved for documentation, the default for our own elements.
inline constexpr uint32_t kDefaultEnterpriseNumber = 32473;
// IANA's port for IPFIX over UDP, TCP and SCTP (RFC 7011, section 10.3).
inline constexpr uint16_t kIpfixDefaultPort = 4739;

// Information Element ids from IANA's IPFIX registry (RFC 7012 and later).
namespace ipfix_ie {
inline constexpr uint16_t kOctetDeltaCount = 1;
inline constexpr uint16_t kPacketDeltaCount = 2;
inline constexpr uint16_t kProtocolIdentifier = 4;
inline constexpr uint16_t kTcpControlBits = 6;
inline constexpr uint16_t kSourceTransportPort = 7;
inline constexpr uint16_t kSourceIpv4Address = 8;
inline constexpr uint16_t kDestinationTransportPort = 11;
inline constexpr uint16_t kDestinationIpv4Address = 12;
inline constexpr uint16_t kSourceIpv6Address = 27;
inline constexpr uint16_t kDestinationIpv6Address = 28;
inline constexpr uint16_t kVlanId = 58;
inline constexpr uint16_t kIpVersion = 60;
inline constexpr uint16_t kFlowEndReason = 136;
inline constexpr uint16_t kFlowId = 148;
inline constexpr uint16_t kFlowStartMilliseconds = 152;
inline constexpr uint16_t kFlowEndMilliseconds = 153;
inline constexpr uint16_t kDot1qCustomerVlanId = 245;
// Elements of our own, under the configured PEN.
inline constexpr uint16_t kAlertTotalCount = 1001;
inline constexpr uint16_t kAlertFlag = 1002;
}  // namespace ipfix_ie

// One Field Specifier of a Template Record; `enterprise` 0 is an IANA element.
struct IpfixField {
  uint16_t id = 0;
  uint16_t length = 0;
  uint32_t enterprise = 0;
};

// Builds one IPFIX message in a buffer of at most `max_length` bytes: sets are opened,
// filled and closed in turn, then Finish() writes the message header.
class IpfixMessageBuilder {
 public:
  explicit IpfixMessageBuilder(size_t max_length);

  // Starts an empty message (header space only).
  void Reset();
  size_t length() const { return buffer_.size(); }
  size_t room() const { return max_length_ - buffer_.size(); }
  bool in_set() const { return set_start_ != kNoSet; }
  uint16_t set_id() const { return set_id_; }

  // Opens a set; the caller checks room() first.
  void BeginSet(uint16_t set_id);
  // Returns `length` zeroed bytes at the end of the open set, to be filled by the caller.
  std::span<uint8_t> Append(size_t length);
  // Closes the open set. Pads it with zeros to a multiple of 4 bytes when the padding is
  // shorter than `record_length`, as RFC 7011 section 3.3.1 requires of padding.
  void EndSet(size_t record_length);
  // Closes any open set, writes the header and returns the whole message.
  std::span<const uint8_t> Finish(uint32_t export_time_s, uint32_t sequence,
                                  uint32_t observation_domain);

 private:
  static constexpr size_t kNoSet = static_cast<size_t>(-1);
  size_t max_length_;
  std::vector<uint8_t> buffer_;
  size_t set_start_ = kNoSet;
  uint16_t set_id_ = 0;
};

// The IPv4 and IPv6 flow templates and the encoding of flow records with them.
class IpfixFlowTemplates {
 public:
  explicit IpfixFlowTemplates(uint32_t enterprise_number);

  const std::vector<IpfixField>& fields(bool ipv6) const { return ipv6 ? fields_v6_ : fields_v4_; }
  uint16_t template_id(bool ipv6) const { return ipv6 ? kTemplateIdIpv6 : kTemplateIdIpv4; }
  // Length of one Data Record; records have fixed-length fields only.
  size_t record_length(bool ipv6) const { return ipv6 ? record_length_v6_ : record_length_v4_; }
  // Length of the Template Set that AppendTemplateSet writes.
  size_t template_set_length() const;

  // Appends one Template Set holding both templates.
  void AppendTemplateSet(IpfixMessageBuilder& builder) const;
  // Writes the Data Record of `record` (for the template of its IP version) into `out`,
  // which has record_length() bytes.
  void EncodeRecord(const dp::FlowRecord& record, std::span<uint8_t> out) const;

 private:
  std::vector<IpfixField> fields_v4_;
  std::vector<IpfixField> fields_v6_;
  size_t record_length_v4_ = 0;
  size_t record_length_v6_ = 0;
  uint32_t enterprise_number_;
};

// Big-endian stores, as IPFIX encodes every integer in network byte order.
void StoreBigEndian16(uint8_t* out, uint16_t value);
void StoreBigEndian32(uint8_t* out, uint32_t value);
void StoreBigEndian64(uint8_t* out, uint64_t value);

}  // namespace sensor::ctl

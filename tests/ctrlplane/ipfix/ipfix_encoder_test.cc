#include "ctrlplane/ipfix/ipfix_encoder.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/ctrlplane/ipfix/ipfix_test_parser.h"

namespace sensor::ctl {
namespace {

using testing::IpfixReader;
using testing::ParsedMessage;
using testing::ReadBig;
using testing::Value;
namespace ie = ipfix_ie;

dp::FlowRecord Ipv4Record() {
  dp::FlowRecord record;
  record.flow_id = 0x0100000000000007;
  record.first_ns = 1'494'364'058'364'077'000;  // 2017-05-09T21:07:38.364077Z
  record.delta_first_ns = record.first_ns;
  record.last_ns = 1'494'364'058'395'559'000;
  record.delta_packets[0] = 7;
  record.delta_packets[1] = 5;
  record.delta_bytes[0] = 512;
  record.delta_bytes[1] = 5379;
  record.packets[0] = 7;
  record.packets[1] = 5;
  record.bytes[0] = 512;
  record.bytes[1] = 5379;
  record.tuple.src = dp::IpAddress::FromV4(0xC0000201);  // 192.0.2.1
  record.tuple.dst = dp::IpAddress::FromV4(0xC6336402);  // 198.51.100.2
  record.tuple.src_port = 59856;
  record.tuple.dst_port = 80;
  record.tuple.protocol = 6;
  record.tuple.ip_version = 4;
  record.tuple.vlan_outer = 100;
  record.tuple.vlan_inner = 200;
  record.tuple.vlan_count = 2;
  record.tcp_flags[0] = 0x1b;  // FIN SYN PSH ACK
  record.tcp_flags[1] = 0x12;  // SYN ACK
  record.reason = dp::FlowEndReason::kEndOfFlow;
  record.has_alerts = 1;
  record.alerts = 3;
  record.for_export = true;
  return record;
}

dp::FlowRecord Ipv6Record() {
  dp::FlowRecord record = Ipv4Record();
  record.tuple.ip_version = 6;
  record.tuple.src = {};
  record.tuple.dst = {};
  record.tuple.src.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  record.tuple.dst.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  record.tuple.protocol = 17;
  record.tuple.vlan_outer = 0;
  record.tuple.vlan_inner = 0;
  record.tcp_flags[0] = 0;
  record.tcp_flags[1] = 0;
  record.has_alerts = 0;
  record.alerts = 0;
  record.reason = dp::FlowEndReason::kActiveTimeout;
  return record;
}

// Encodes a message with the templates and `records`, as the exporter lays them out.
std::vector<uint8_t> EncodeMessage(const IpfixFlowTemplates& templates,
                                   const std::vector<dp::FlowRecord>& records,
                                   uint32_t sequence = 0) {
  IpfixMessageBuilder builder(1452);
  templates.AppendTemplateSet(builder);
  for (const dp::FlowRecord& record : records) {
    const bool ipv6 = record.tuple.ip_version == 6;
    if (builder.in_set() && builder.set_id() != templates.template_id(ipv6)) {
      builder.EndSet(templates.record_length(!ipv6));
    }
    if (!builder.in_set()) builder.BeginSet(templates.template_id(ipv6));
    templates.EncodeRecord(record, builder.Append(templates.record_length(ipv6)));
  }
  if (builder.in_set()) {
    builder.EndSet(templates.record_length(records.back().tuple.ip_version == 6));
  }
  auto message = builder.Finish(1'494'364'060, sequence, 7);
  return {message.begin(), message.end()};
}

TEST(IpfixMessageBuilder, HeaderFields) {
  IpfixMessageBuilder builder(1452);
  builder.BeginSet(300);
  builder.Append(8)[0] = 0xab;
  builder.EndSet(8);
  auto message = builder.Finish(0x5a5a5a5a, 1234, 99);
  ASSERT_EQ(message.size(), 16u + 4 + 8);
  EXPECT_EQ(ReadBig(message.subspan(0, 2)), 10u);  // Version.
  EXPECT_EQ(ReadBig(message.subspan(2, 2)), message.size());
  EXPECT_EQ(ReadBig(message.subspan(4, 4)), 0x5a5a5a5au);
  EXPECT_EQ(ReadBig(message.subspan(8, 4)), 1234u);
  EXPECT_EQ(ReadBig(message.subspan(12, 4)), 99u);
  EXPECT_EQ(ReadBig(message.subspan(16, 2)), 300u);  // Set ID.
  EXPECT_EQ(ReadBig(message.subspan(18, 2)), 12u);   // Set length, header included.
  EXPECT_EQ(message[20], 0xab);
}

TEST(IpfixMessageBuilder, PadsSetToFourBytes) {
  IpfixMessageBuilder builder(1452);
  builder.BeginSet(256);
  builder.Append(5);
  builder.Append(5);
  builder.EndSet(5);  // 4 + 10 = 14 bytes: 2 bytes of padding, shorter than a record.
  auto message = builder.Finish(0, 0, 0);
  EXPECT_EQ(ReadBig(message.subspan(18, 2)), 16u);
  EXPECT_EQ(message.size(), 32u);
  EXPECT_EQ(message[30], 0);
  EXPECT_EQ(message[31], 0);
}

TEST(IpfixMessageBuilder, NoPaddingAsLongAsRecord) {
  IpfixMessageBuilder builder(1452);
  builder.BeginSet(256);
  builder.Append(1);  // 4 + 1 = 5 bytes: 3 bytes of padding would not be shorter than 1.
  builder.EndSet(1);
  auto message = builder.Finish(0, 0, 0);
  EXPECT_EQ(ReadBig(message.subspan(18, 2)), 5u);
  EXPECT_EQ(message.size(), 21u);
}

TEST(IpfixFlowTemplates, RecordLengthsAreFieldSums) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  for (bool ipv6 : {false, true}) {
    size_t sum = 0;
    for (const IpfixField& field : templates.fields(ipv6)) sum += field.length;
    EXPECT_EQ(templates.record_length(ipv6), sum);
    // Multiples of 4, so Data Sets never need padding.
    EXPECT_EQ(templates.record_length(ipv6) % 4, 0u);
  }
  EXPECT_EQ(templates.record_length(false), 84u);
  EXPECT_EQ(templates.record_length(true), 108u);
}

TEST(IpfixFlowTemplates, TemplateSetMatchesFields) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const std::vector<uint8_t> bytes = EncodeMessage(templates, {Ipv4Record()});
  const ParsedMessage message = reader.Read(bytes);
  ASSERT_EQ(message.error, "");
  ASSERT_GE(message.sets.size(), 1u);
  EXPECT_EQ(message.sets[0].id, 2);
  EXPECT_EQ(message.sets[0].length, templates.template_set_length());
  EXPECT_EQ(message.template_records, 2);
  for (bool ipv6 : {false, true}) {
    const auto& parsed = reader.templates().at(templates.template_id(ipv6));
    const auto& fields = templates.fields(ipv6);
    ASSERT_EQ(parsed.size(), fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      EXPECT_EQ(parsed[i].id, fields[i].id) << i;
      EXPECT_EQ(parsed[i].length, fields[i].length) << i;
      EXPECT_EQ(parsed[i].enterprise, fields[i].enterprise) << i;
    }
  }
}

TEST(IpfixFlowTemplates, ReverseElementsUseRfc5103Pen) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  int reverse = 0;
  int own = 0;
  for (const IpfixField& field : templates.fields(false)) {
    if (field.enterprise == kReverseEnterpriseNumber) {
      ++reverse;
      EXPECT_TRUE(field.id == ie::kOctetDeltaCount || field.id == ie::kPacketDeltaCount ||
                  field.id == ie::kTcpControlBits)
          << field.id;
    }
    if (field.enterprise == kDefaultEnterpriseNumber) ++own;
  }
  EXPECT_EQ(reverse, 3);
  EXPECT_EQ(own, 2);
}

TEST(IpfixFlowTemplates, OwnElementIdsDifferFromReverseIds) {
  // pmacct 1.7.7 misreads a second enterprise element with the same id, whatever its PEN.
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  for (const IpfixField& own : templates.fields(false)) {
    if (own.enterprise != kDefaultEnterpriseNumber) continue;
    for (const IpfixField& reverse : templates.fields(false)) {
      if (reverse.enterprise == kReverseEnterpriseNumber) EXPECT_NE(own.id, reverse.id);
    }
  }
}

TEST(IpfixFlowTemplates, EncodesIpv4Record) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(EncodeMessage(templates, {Ipv4Record()}));
  ASSERT_EQ(message.error, "");
  ASSERT_EQ(message.records.size(), 1u);
  EXPECT_EQ(message.record_templates[0], kTemplateIdIpv4);
  const auto& record = message.records[0];
  EXPECT_EQ(Value(record, ie::kFlowId), 0x0100000000000007u);
  EXPECT_EQ(Value(record, ie::kFlowStartMilliseconds), 1'494'364'058'364u);
  EXPECT_EQ(Value(record, ie::kFlowEndMilliseconds), 1'494'364'058'395u);
  EXPECT_EQ(Value(record, ie::kSourceIpv4Address), 0xC0000201u);
  EXPECT_EQ(Value(record, ie::kDestinationIpv4Address), 0xC6336402u);
  EXPECT_EQ(Value(record, ie::kSourceTransportPort), 59856u);
  EXPECT_EQ(Value(record, ie::kDestinationTransportPort), 80u);
  EXPECT_EQ(Value(record, ie::kProtocolIdentifier), 6u);
  EXPECT_EQ(Value(record, ie::kIpVersion), 4u);
  EXPECT_EQ(Value(record, ie::kVlanId), 100u);
  EXPECT_EQ(Value(record, ie::kDot1qCustomerVlanId), 200u);
  EXPECT_EQ(Value(record, ie::kFlowEndReason), 3u);  // endOfFlowDetected
  EXPECT_EQ(Value(record, ie::kOctetDeltaCount), 512u);
  EXPECT_EQ(Value(record, ie::kPacketDeltaCount), 7u);
  EXPECT_EQ(Value(record, ie::kTcpControlBits), 0x1bu);
  EXPECT_EQ(Value(record, ie::kAlertTotalCount, kDefaultEnterpriseNumber), 3u);
  EXPECT_EQ(Value(record, ie::kAlertFlag, kDefaultEnterpriseNumber), 1u);
}

TEST(IpfixFlowTemplates, EncodesReverseDirection) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(EncodeMessage(templates, {Ipv4Record()}));
  ASSERT_EQ(message.records.size(), 1u);
  const auto& record = message.records[0];
  EXPECT_EQ(Value(record, ie::kOctetDeltaCount, kReverseEnterpriseNumber), 5379u);
  EXPECT_EQ(Value(record, ie::kPacketDeltaCount, kReverseEnterpriseNumber), 5u);
  EXPECT_EQ(Value(record, ie::kTcpControlBits, kReverseEnterpriseNumber), 0x12u);
}

TEST(IpfixFlowTemplates, EncodesIpv6Record) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(EncodeMessage(templates, {Ipv6Record()}));
  ASSERT_EQ(message.error, "");
  ASSERT_EQ(message.records.size(), 1u);
  EXPECT_EQ(message.record_templates[0], kTemplateIdIpv6);
  const auto& record = message.records[0];
  const std::vector<uint8_t> source = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                       0,    0,    0,    0,    0, 0, 0, 0x02};
  EXPECT_EQ(record.at({0, ie::kSourceIpv6Address}), source);
  EXPECT_EQ(record.at({0, ie::kDestinationIpv6Address}).back(), 0x01);
  EXPECT_EQ(Value(record, ie::kIpVersion), 6u);
  EXPECT_EQ(Value(record, ie::kProtocolIdentifier), 17u);
  EXPECT_EQ(Value(record, ie::kFlowEndReason), 2u);  // activeTimeout
  EXPECT_EQ(Value(record, ie::kAlertFlag, kDefaultEnterpriseNumber), 0u);
  EXPECT_EQ(record.count({0, ie::kSourceIpv4Address}), 0u);
}

TEST(IpfixFlowTemplates, MixedFamiliesUseTwoDataSets) {
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(
      EncodeMessage(templates, {Ipv4Record(), Ipv4Record(), Ipv6Record(), Ipv4Record()}, 42));
  ASSERT_EQ(message.error, "");
  ASSERT_EQ(message.sets.size(), 4u);  // Templates, IPv4 x2, IPv6, IPv4.
  EXPECT_EQ(message.sets[1].length, 4 + 2 * 84);
  EXPECT_EQ(message.sets[2].length, 4 + 108);
  EXPECT_EQ(message.sets[3].length, 4 + 84);
  EXPECT_EQ(message.records.size(), 4u);
  EXPECT_EQ(message.sequence, 42u);
  size_t sum = 16;
  for (const auto& set : message.sets) sum += set.length;
  EXPECT_EQ(sum, message.length);
}

TEST(IpfixFlowTemplates, DeltaCountsNotFlowTotals) {
  // After an active timeout, the record reports the period, not the whole flow.
  dp::FlowRecord flow = Ipv4Record();
  flow.packets[0] = 100;
  flow.bytes[0] = 100'000;
  flow.delta_first_ns = flow.first_ns + 1'800'000'000'000;
  IpfixFlowTemplates templates(kDefaultEnterpriseNumber);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(EncodeMessage(templates, {flow}));
  ASSERT_EQ(message.records.size(), 1u);
  EXPECT_EQ(Value(message.records[0], ie::kPacketDeltaCount), 7u);
  EXPECT_EQ(Value(message.records[0], ie::kOctetDeltaCount), 512u);
  EXPECT_EQ(Value(message.records[0], ie::kFlowStartMilliseconds), 1'494'365'858'364u);
}

TEST(IpfixFlowTemplates, ConfiguredEnterpriseNumber) {
  IpfixFlowTemplates templates(4242);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(EncodeMessage(templates, {Ipv4Record()}));
  ASSERT_EQ(message.records.size(), 1u);
  EXPECT_EQ(Value(message.records[0], ie::kAlertTotalCount, 4242), 3u);
  EXPECT_EQ(message.records[0].count({kDefaultEnterpriseNumber, ie::kAlertTotalCount}), 0u);
}

}  // namespace
}  // namespace sensor::ctl

#include "ctrlplane/alert_document.h"

#include <rapidjson/document.h>

#include <gtest/gtest.h>

namespace sensor::ctl {
namespace {

class AlertDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    misp::Event event;
    event.id = "42";
    event.uuid = "e1";
    event.info = "quote \" and newline \n and control \x01";
    event.tags = {"tlp:amber"};
    event.threat_level_id = 1;
    table_.events.push_back(event);
    misp::Attribute attribute;
    attribute.uuid = "a1";
    attribute.type = "ip-dst|port";
    attribute.value = "192.0.2.1|443";
    attribute.to_ids = true;
    table_.attributes.push_back(attribute);
    table_.entries.push_back({0, "192.0.2.1", 443, Tlp::kAmber});

    alert_.indicator = 0;
    alert_.matched_side = dp::kSideDestination;
    alert_.packet_time_ns = 1'494'364'058'364'077'000;
    alert_.flow_start_ns = alert_.packet_time_ns;
    alert_.tuple.src = dp::IpAddress::FromV4(0x0A10010B);  // 10.16.1.11
    alert_.tuple.dst = dp::IpAddress::FromV4(0xC0000201);  // 192.0.2.1
    alert_.tuple.src_port = 55398;
    alert_.tuple.dst_port = 443;
    alert_.tuple.protocol = 6;
    alert_.tuple.ip_version = 4;
  }

  IndicatorTable table_;
  dp::AlertRecord alert_;
};

TEST_F(AlertDocumentTest, ValidJsonWithEscapedStrings) {
  const std::string json = BuildAlertDocument({&alert_, &table_, nullptr, "host"});
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  ASSERT_FALSE(document.HasParseError()) << json;
  EXPECT_STREQ(document["misp"]["event"]["info"].GetString(),
               "quote \" and newline \n and control \x01");
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_STREQ(document["@timestamp"].GetString(), "2017-05-09T21:07:38.364077Z");
  EXPECT_STREQ(document["destination"]["ip"].GetString(), "192.0.2.1");
  EXPECT_EQ(document["threat"]["indicator"]["port"].GetUint(), 443u);
  EXPECT_STREQ(document["threat"]["indicator"]["marking"]["tlp"].GetString(), "AMBER");
  EXPECT_FALSE(document["source"].HasMember("packets"));  // No flow record given.
}

TEST_F(AlertDocumentTest, IdIsDeterministicAndDirectionFree) {
  const std::string id = AlertId(alert_, "a1");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id, AlertId(alert_, "a1"));
  EXPECT_NE(id, AlertId(alert_, "a2"));
  dp::AlertRecord reversed = alert_;
  std::swap(reversed.tuple.src, reversed.tuple.dst);
  std::swap(reversed.tuple.src_port, reversed.tuple.dst_port);
  EXPECT_EQ(id, AlertId(reversed, "a1"));
  dp::AlertRecord later = alert_;
  later.flow_start_ns += 1000;
  EXPECT_NE(id, AlertId(later, "a1"));
}

TEST_F(AlertDocumentTest, FlowCountsFollowAlertDirection) {
  dp::FlowRecord flow;
  flow.tuple = alert_.tuple;  // The alert's source initiated the flow.
  flow.packets[0] = 7;
  flow.packets[1] = 5;
  flow.bytes[0] = 512;
  flow.bytes[1] = 5379;
  flow.last_ns = alert_.packet_time_ns + 1'000'000;
  const std::string json = BuildAlertDocument({&alert_, &table_, &flow, ""});
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  ASSERT_FALSE(document.HasParseError());
  EXPECT_EQ(document["source"]["packets"].GetUint64(), 7u);
  EXPECT_EQ(document["destination"]["bytes"].GetUint64(), 5379u);
  EXPECT_EQ(document["network"]["bytes"].GetUint64(), 5891u);

  dp::AlertRecord reply = alert_;
  std::swap(reply.tuple.src, reply.tuple.dst);
  std::swap(reply.tuple.src_port, reply.tuple.dst_port);
  const std::string reply_json = BuildAlertDocument({&reply, &table_, &flow, ""});
  document.Parse(reply_json.c_str(), reply_json.size());
  EXPECT_EQ(document["source"]["packets"].GetUint64(), 5u);
  EXPECT_EQ(document["source"]["bytes"].GetUint64(), 5379u);
}

TEST(FormatTimestampTest, Utc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1'730'145'002'900'383'000), "2024-10-28T19:50:02.900383Z");
}

}  // namespace
}  // namespace sensor::ctl

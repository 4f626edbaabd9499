#include "ctrlplane/ctl/ctl_commands.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>

#include "ctrlplane/misp/misp_loader.h"
#include "rapidjson/document.h"

namespace sensor::ctl {
namespace {

std::string DataPath(const std::string& relative) {
  const char* root = std::getenv("SENSOR_TEST_DATA");
  return std::string(root != nullptr ? root : "tests/data") + "/" + relative;
}

// MISP's own STIX test event, compiled as the sensor compiles it by default.
CompileResult StixEvent() {
  absl::StatusOr<misp::LoadResult> loaded =
      misp::LoadMispPaths({DataPath("misp/events/misp-stixtest-all-types.json")});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return CompileIndicators(std::move(*loaded), CompileOptions{}, 1);
}

rapidjson::Document WriteAndParse(const std::function<void(CtlWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  CtlWriter writer(buffer);
  write(writer);
  EXPECT_TRUE(writer.IsComplete());
  rapidjson::Document document;
  document.Parse(buffer.GetString(), buffer.GetSize());
  EXPECT_FALSE(document.HasParseError());
  return document;
}

TEST(LookupTest, AddressMatchesWithEventContext) {
  CompileResult compiled = StixEvent();
  rapidjson::Document result = WriteAndParse([&](CtlWriter& writer) {
    ASSERT_TRUE(WriteLookup(*compiled.snapshot, "8.8.8.8", nullptr, true, writer).ok());
  });
  EXPECT_STREQ(result["value"].GetString(), "8.8.8.8");
  const rapidjson::Value& matches = result["matches"];
  // The event file lists 8.8.8.8 as ip-dst in the domain-ip, ip-port, network-connection
  // and network-socket objects and as ip-src in the asn object.
  ASSERT_EQ(matches.Size(), 5u);
  std::set<std::string> uuids;
  for (const rapidjson::Value& match : matches.GetArray()) {
    uuids.insert(match["attribute"]["uuid"].GetString());
    EXPECT_STREQ(match["matched_as"].GetString(), "address");
    EXPECT_STREQ(match["indicator"].GetString(), "8.8.8.8");
    EXPECT_STREQ(match["event"]["id"].GetString(), "1255");
    EXPECT_STREQ(match["event"]["uuid"].GetString(), "5abb8534-ba9c-48cd-bb63-02480a00020f");
    EXPECT_STREQ(match["event"]["info"].GetString(), "STIX indicators test event");
    EXPECT_STREQ(match["event"]["org"].GetString(), "ORGNAME_387");
    // The event carries tlp:white, which TLP 2.0 calls clear.
    EXPECT_STREQ(match["tlp"].GetString(), "clear");
    EXPECT_TRUE(match["attribute"]["to_ids"].GetBool());
  }
  EXPECT_EQ(uuids,
            (std::set<std::string>{
                "5ac337df-3c54-413c-a748-02550a00020f", "5ac47edc-0548-4a91-8beb-040d0a00020f",
                "5afacc53-a2cc-4f67-bf34-03c80a00020f", "5afb3223-7030-42d4-b86f-02070a00020f",
                "5b23c82b-6b28-4904-81cc-045b0a00020f"}));
  EXPECT_FALSE(result["warninglists_checked"].GetBool());
}

TEST(LookupTest, HostnameMatchesOnlyTheExactName) {
  CompileResult compiled = StixEvent();
  rapidjson::Document exact = WriteAndParse([&](CtlWriter& writer) {
    ASSERT_TRUE(WriteLookup(*compiled.snapshot, "GOOGLE.com.", nullptr, true, writer).ok());
  });
  bool found = false;
  for (const rapidjson::Value& match : exact["matches"].GetArray()) {
    if (std::string(match["attribute"]["uuid"].GetString()) ==
        "5e5d71db-8d7c-430f-830d-6a9da964451a") {
      found = true;
      EXPECT_STREQ(match["matched_as"].GetString(), "domain");
      EXPECT_STREQ(match["attribute"]["type"].GetString(), "hostname");
      EXPECT_STREQ(match["attribute"]["object_name"].GetString(), "network-socket");
    }
  }
  EXPECT_TRUE(found);

  rapidjson::Document below = WriteAndParse([&](CtlWriter& writer) {
    ASSERT_TRUE(WriteLookup(*compiled.snapshot, "www.google.com", nullptr, true, writer).ok());
  });
  for (const rapidjson::Value& match : below["matches"].GetArray()) {
    EXPECT_STRNE(match["attribute"]["uuid"].GetString(), "5e5d71db-8d7c-430f-830d-6a9da964451a");
  }
}

TEST(LookupTest, UnlistedValueMatchesNothing) {
  CompileResult compiled = StixEvent();
  rapidjson::Document result = WriteAndParse([&](CtlWriter& writer) {
    ASSERT_TRUE(WriteLookup(*compiled.snapshot, "192.0.2.77", nullptr, true, writer).ok());
  });
  EXPECT_EQ(result["matches"].Size(), 0u);
  ASSERT_GE(result["readings"].Size(), 1u);
  EXPECT_STREQ(result["readings"][0].GetString(), "address 192.0.2.77");
}

TEST(LookupTest, ResolvedAddressesAreSearched) {
  CompileResult compiled = StixEvent();
  // Watch 192.0.2.9 as the hostname indicator google.com, as a DNS answer would.
  uint32_t hostname = 0;
  const IndicatorTable& table = *compiled.snapshot->indicators;
  for (uint32_t i = 0; i < table.entries.size(); ++i) {
    if (table.attributes[table.entries[i].attribute].uuid ==
        "5e5d71db-8d7c-430f-830d-6a9da964451a") {
      hostname = i;
    }
  }
  dp::IpSetBuilder builder;
  builder.Add(dp::IpAddress::FromV4(0xC0000209), 32, {hostname, 0, dp::kSideEither});
  compiled.snapshot->resolved = std::make_shared<const dp::IpSet>(std::move(builder).Build());
  rapidjson::Document result = WriteAndParse([&](CtlWriter& writer) {
    ASSERT_TRUE(WriteLookup(*compiled.snapshot, "192.0.2.9", nullptr, true, writer).ok());
  });
  ASSERT_EQ(result["matches"].Size(), 1u);
  EXPECT_STREQ(result["matches"][0]["matched_as"].GetString(), "resolved address");
  EXPECT_STREQ(result["matches"][0]["indicator"].GetString(), "google.com");
}

TEST(IndicatorSummaryTest, CountsByTypeAndTlp) {
  CompileResult compiled = StixEvent();
  rapidjson::Document result = WriteAndParse([&](CtlWriter& writer) {
    WriteIndicatorSummary(*compiled.snapshot, compiled.stats, writer);
  });
  // The same counts as the replay statistics test reads from the event: 6 ip-src,
  // 4 ip-dst, one ip-dst|port and one domain|ip.
  EXPECT_EQ(result["by_type"]["ip-src"].GetUint64(), 6u);
  EXPECT_EQ(result["by_type"]["ip-dst"].GetUint64(), 4u);
  EXPECT_EQ(result["by_type"]["ip-dst|port"].GetUint64(), 1u);
  EXPECT_EQ(result["by_type"]["domain|ip"].GetUint64(), 1u);
  EXPECT_EQ(result["events"].GetUint64(), 1u);
  uint64_t by_tlp = 0;
  for (const auto& member : result["by_tlp"].GetObject()) by_tlp += member.value.GetUint64();
  EXPECT_EQ(by_tlp, result["indicators"].GetUint64());
  EXPECT_EQ(result["indicators"].GetUint64(), compiled.stats.loaded());
}

TEST(IndicatorSummaryTest, RejectedPatternIsNotCounted) {
  // Three pattern-in-traffic attributes with to_ids set, and Hyperscan rejects one of
  // them, the lookbehind "/(?<=x)y/".
  absl::StatusOr<misp::LoadResult> loaded =
      misp::LoadMispPaths({DataPath("misp/crafted/dvwa-patterns.json")});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  CompileResult compiled = CompileIndicators(std::move(*loaded), CompileOptions{}, 1);
  rapidjson::Document result = WriteAndParse([&](CtlWriter& writer) {
    WriteIndicatorSummary(*compiled.snapshot, compiled.stats, writer);
  });
  EXPECT_EQ(compiled.stats.rejected, 1u);
  EXPECT_EQ(compiled.stats.loaded(), 2u);
  EXPECT_EQ(result["indicators"].GetUint64(), 2u);
  EXPECT_EQ(result["by_type"]["pattern-in-traffic"].GetUint64(), 2u);
}

TEST(RequestTest, StringAndCount) {
  rapidjson::Document request;
  request.Parse(R"({"command":"lookup","value":"x","count":5,"bad":-1})");
  EXPECT_EQ(*RequestString(request, "value"), "x");
  EXPECT_FALSE(RequestString(request, "missing").ok());
  EXPECT_FALSE(RequestString(request, "count").ok());
  EXPECT_EQ(*RequestCount(request, "count", 10), 5u);
  EXPECT_EQ(*RequestCount(request, "missing", 10), 10u);
  EXPECT_FALSE(RequestCount(request, "bad", 10).ok());
  EXPECT_FALSE(RequestCount(request, "value", 10).ok());
}

TEST(TopFlowsJsonTest, WritesFlowFields) {
  TopFlows flows;
  dp::FlowRecord record;
  record.first_ns = 1'494'364'058'364'077'000;
  record.last_ns = 1'494'364'058'429'337'000;
  record.tuple.src = dp::IpAddress::FromV4(0x0A10010B);
  record.tuple.dst = dp::IpAddress::FromV4(0x08080808);
  record.tuple.src_port = 55398;
  record.tuple.dst_port = 53;
  record.tuple.protocol = 17;
  record.packets[0] = 1;
  record.packets[1] = 1;
  record.bytes[0] = 67;
  record.bytes[1] = 259;
  record.alerts = 6;
  record.reason = dp::FlowEndReason::kIdleTimeout;
  flows.OnFlowRecord(record);
  rapidjson::Document result =
      WriteAndParse([&](CtlWriter& writer) { WriteTopFlows(flows, 5, writer); });
  ASSERT_EQ(result["flows"].Size(), 1u);
  const rapidjson::Value& flow = result["flows"][0];
  EXPECT_STREQ(flow["source"]["ip"].GetString(), "10.16.1.11");
  EXPECT_EQ(flow["source"]["port"].GetUint64(), 55398u);
  EXPECT_STREQ(flow["destination"]["ip"].GetString(), "8.8.8.8");
  EXPECT_EQ(flow["bytes"].GetUint64(), 326u);
  EXPECT_EQ(flow["packets"].GetUint64(), 2u);
  EXPECT_STREQ(flow["transport"].GetString(), "udp");
  EXPECT_STREQ(flow["end_reason"].GetString(), "idle_timeout");
  EXPECT_STREQ(flow["end"].GetString(), "2017-05-09T21:07:38.429337Z");
}

}  // namespace
}  // namespace sensor::ctl

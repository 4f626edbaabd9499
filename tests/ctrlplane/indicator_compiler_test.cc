#include "ctrlplane/indicator_compiler.h"

#include <gtest/gtest.h>

namespace sensor::ctl {
namespace {

struct PrefixCase {
  const char* input;
  const char* canonical;  // nullptr when the input must be rejected.
  int length;
};

TEST(ParsePrefixTest, Table) {
  const PrefixCase cases[] = {
      {"8.8.8.8", "8.8.8.8", 32},
      {" 8.8.8.8 ", "8.8.8.8", 32},
      {"10.1.2.3/8", "10.0.0.0/8", 8},
      {"192.0.2.0/24", "192.0.2.0/24", 24},
      {"2001:db8::1", "2001:db8::1", 128},
      {"2001:db8::/32", "2001:db8::/32", 32},
      {"2001:DB8::/32", "2001:db8::/32", 32},
      // IPv4-mapped prefixes of length 96 or more are IPv4 prefixes.
      {"::ffff:141.142.228.0/120", "141.142.228.0/24", 24},
      {"::ffff:1.2.3.4", "1.2.3.4", 32},
      // ::ffff:0:0/96 is all of IPv4: /0 after mapping, always rejected.
      {"::ffff:0:0/96", nullptr, 0},
      {"::ffff:0:0/95", nullptr, 0},
      {"0.0.0.0/0", nullptr, 0},
      {"::/0", nullptr, 0},
      {"10.0.0.0/7", nullptr, 0},    // Broader than the default /8 floor.
      {"2001::/16", nullptr, 0},     // Broader than the default /24 floor.
      {"192.150.187.999", nullptr, 0},
      {"1.2.3", nullptr, 0},
      {"1.2.3.4/33", nullptr, 0},
      {"2001:db8::/129", nullptr, 0},
      {"1.2.3.4/", nullptr, 0},
      {"1.2.3.4/x", nullptr, 0},
      {"www.example.com", nullptr, 0},
      {"", nullptr, 0},
  };
  const CompileOptions options;
  for (const PrefixCase& test : cases) {
    absl::StatusOr<ParsedPrefix> parsed = ParsePrefix(test.input, options);
    if (test.canonical == nullptr) {
      EXPECT_FALSE(parsed.ok()) << test.input;
      continue;
    }
    ASSERT_TRUE(parsed.ok()) << test.input << ": " << parsed.status();
    EXPECT_EQ(FormatPrefix(*parsed), test.canonical) << test.input;
    EXPECT_EQ(parsed->length, test.length) << test.input;
  }
}

TEST(ParsePrefixTest, FloorIsConfigurable) {
  CompileOptions options;
  options.min_prefix_v4 = 16;
  EXPECT_FALSE(ParsePrefix("10.0.0.0/8", options).ok());
  EXPECT_TRUE(ParsePrefix("10.1.0.0/16", options).ok());
  options.min_prefix_v4 = 0;  // /0 stays rejected whatever the floor.
  EXPECT_FALSE(ParsePrefix("0.0.0.0/0", options).ok());
}

TEST(ParsePrefixTest, ErrorNamesTheValue) {
  absl::StatusOr<ParsedPrefix> parsed = ParsePrefix("192.150.187.999", CompileOptions());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("192.150.187.999"), absl::string_view::npos);
}

misp::LoadResult OneEvent(std::vector<misp::Attribute> attributes,
                          std::vector<std::string> event_tags = {}) {
  misp::LoadResult result;
  misp::Event event;
  event.uuid = "e0000000-0000-4000-8000-000000000000";
  event.info = "test event";
  event.source = "events/test.json";
  event.tags = std::move(event_tags);
  result.events.push_back(event);
  result.attributes = std::move(attributes);
  return result;
}

misp::Attribute Attribute(std::string uuid, std::string type, std::string value) {
  misp::Attribute attribute;
  attribute.uuid = std::move(uuid);
  attribute.type = std::move(type);
  attribute.value = std::move(value);
  attribute.to_ids = true;
  return attribute;
}

TEST(CompileIndicatorsTest, CountsAndFilters) {
  misp::Attribute not_ids = Attribute("a2", "ip-dst", "192.0.2.2");
  not_ids.to_ids = false;
  misp::Attribute deleted = Attribute("a3", "ip-dst", "192.0.2.3");
  deleted.deleted = true;
  CompileResult result = CompileIndicators(
      OneEvent({Attribute("a1", "ip-dst", "192.0.2.1"), not_ids, deleted,
                Attribute("a4", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
                Attribute("a5", "ip-src|port", "192.0.2.5|443"),
                Attribute("a6", "domain|ip", "example.org|2001:db8::6"),
                Attribute("a7", "ip-dst|port", "192.0.2.7|99999"),
                Attribute("a8", "ip-dst|port", "192.0.2.8")}),
      CompileOptions(), 7);
  const CompileStats& stats = result.stats;
  EXPECT_EQ(stats.loaded(), 3u);
  EXPECT_EQ(stats.loaded_by_type.at("ip-dst"), 1u);
  EXPECT_EQ(stats.loaded_by_type.at("ip-src|port"), 1u);
  EXPECT_EQ(stats.loaded_by_type.at("domain|ip"), 1u);
  EXPECT_EQ(stats.skipped_not_ids, 1u);
  EXPECT_EQ(stats.skipped_deleted, 1u);
  EXPECT_EQ(stats.not_matched_by_type.at("md5"), 1u);
  EXPECT_EQ(stats.rejected, 2u);
  ASSERT_EQ(stats.errors.size(), 2u);
  EXPECT_NE(stats.errors[0].find("events/test.json: attribute a7"), std::string::npos);
  EXPECT_NE(stats.errors[0].find("99999"), std::string::npos);
  EXPECT_NE(stats.errors[1].find("attribute a8"), std::string::npos);
  EXPECT_EQ(result.snapshot->version, 7u);
  EXPECT_EQ(result.snapshot->indicators->entries.size(), 3u);
  EXPECT_EQ(result.snapshot->addresses->rule_count(), 3u);
}

TEST(CompileIndicatorsTest, IncludeNonIds) {
  misp::Attribute not_ids = Attribute("a1", "ip-dst", "192.0.2.2");
  not_ids.to_ids = false;
  CompileOptions options;
  options.include_non_ids = true;
  CompileResult result = CompileIndicators(OneEvent({not_ids}), options, 1);
  EXPECT_EQ(result.stats.loaded(), 1u);
}

TEST(CompileIndicatorsTest, TlpAttributeOverEventAndDefault) {
  misp::Attribute tagged = Attribute("a1", "ip-dst", "192.0.2.1");
  tagged.tags = {"tlp:green", "TLP:RED"};
  CompileResult result = CompileIndicators(
      OneEvent({tagged, Attribute("a2", "ip-dst", "192.0.2.2")}, {"tlp:clear"}),
      CompileOptions(), 1);
  const auto& entries = result.snapshot->indicators->entries;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].tlp, Tlp::kRed);    // Most restrictive attribute tag.
  EXPECT_EQ(entries[1].tlp, Tlp::kClear);  // Event tag.

  CompileOptions options;
  options.default_tlp = Tlp::kGreen;
  CompileResult untagged =
      CompileIndicators(OneEvent({Attribute("a3", "ip-dst", "192.0.2.3")}), options, 1);
  EXPECT_EQ(untagged.snapshot->indicators->entries[0].tlp, Tlp::kGreen);
}

TEST(CompileIndicatorsTest, PortAndSideReachTheRules) {
  CompileResult result = CompileIndicators(
      OneEvent({Attribute("a1", "ip-dst|port", "192.0.2.1|8443")}), CompileOptions(), 1);
  int matches = 0;
  result.snapshot->addresses->Match(dp::IpAddress::FromV4(0xC0000201), dp::kSideDestination,
                                   8443, [&](const dp::AddressRule& rule) {
                                     ++matches;
                                     EXPECT_EQ(rule.port, 8443);
                                   });
  EXPECT_EQ(matches, 1);
  EXPECT_EQ(result.snapshot->indicators->entries[0].port, 8443);
}

}  // namespace
}  // namespace sensor::ctl

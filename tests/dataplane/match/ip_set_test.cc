#include "dataplane/match/ip_set.h"

#include <arpa/inet.h>

#include <vector>

#include <gtest/gtest.h>

namespace sensor::dp {
namespace {

IpAddress V4(const char* text) {
  in_addr address;
  EXPECT_EQ(inet_pton(AF_INET, text, &address), 1) << text;
  return IpAddress::FromV4(ntohl(address.s_addr));
}

IpAddress V6(const char* text) {
  IpAddress address;
  EXPECT_EQ(inet_pton(AF_INET6, text, address.bytes.data()), 1) << text;
  return address;
}

std::vector<uint32_t> Matches(const IpSet& set, const IpAddress& address, MatchSide side,
                              uint16_t port = 0) {
  std::vector<uint32_t> indicators;
  set.Match(address, side, port, [&](const AddressRule& rule) {
    indicators.push_back(rule.indicator);
  });
  return indicators;
}

TEST(IpSetTest, ExactV4MatchesOnlyThatAddress) {
  IpSetBuilder builder;
  builder.Add(V4("8.8.8.8"), 32, {1, 0, kSideDestination});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("8.8.8.8"), kSideDestination), std::vector<uint32_t>{1});
  EXPECT_TRUE(Matches(set, V4("8.8.8.9"), kSideDestination).empty());
  EXPECT_TRUE(Matches(set, V4("8.8.8.8"), kSideSource).empty());
}

TEST(IpSetTest, LongestPrefixWins) {
  IpSetBuilder builder;
  builder.Add(V4("10.0.0.0"), 8, {1, 0, kSideEither});
  builder.Add(V4("10.1.0.0"), 16, {2, 0, kSideEither});
  builder.Add(V4("10.1.2.3"), 32, {3, 0, kSideEither});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("10.1.2.3"), kSideSource), std::vector<uint32_t>{3});
  EXPECT_EQ(Matches(set, V4("10.1.2.4"), kSideSource), std::vector<uint32_t>{2});
  EXPECT_EQ(Matches(set, V4("10.2.0.1"), kSideSource), std::vector<uint32_t>{1});
  EXPECT_TRUE(Matches(set, V4("11.0.0.1"), kSideSource).empty());
  EXPECT_EQ(set.prefix_count(), 3u);
}

TEST(IpSetTest, LongerPrefixOfWrongSideFallsBackToShorter) {
  // A /32 that only applies to sources must not hide a /24 that applies to destinations.
  IpSetBuilder builder;
  builder.Add(V4("192.0.2.0"), 24, {1, 0, kSideDestination});
  builder.Add(V4("192.0.2.7"), 32, {2, 0, kSideSource});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("192.0.2.7"), kSideDestination), std::vector<uint32_t>{1});
  EXPECT_EQ(Matches(set, V4("192.0.2.7"), kSideSource), std::vector<uint32_t>{2});
}

TEST(IpSetTest, PortQualifierMatchesOnlyThatPort) {
  IpSetBuilder builder;
  builder.Add(V4("12.34.56.78"), 32, {5, 2510, kSideDestination});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("12.34.56.78"), kSideDestination, 2510), std::vector<uint32_t>{5});
  EXPECT_TRUE(Matches(set, V4("12.34.56.78"), kSideDestination, 443).empty());
  // Later fragments have no ports, so a port-qualified rule cannot match them.
  EXPECT_TRUE(Matches(set, V4("12.34.56.78"), kSideDestination, 0).empty());
}

TEST(IpSetTest, SeveralRulesOnOnePrefixAllReported) {
  IpSetBuilder builder;
  builder.Add(V4("8.8.8.8"), 32, {4, 0, kSideDestination});
  builder.Add(V4("8.8.8.8"), 32, {7, 0, kSideDestination});
  builder.Add(V4("8.8.8.8"), 32, {9, 0, kSideSource});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("8.8.8.8"), kSideDestination), (std::vector<uint32_t>{4, 7}));
  EXPECT_EQ(Matches(set, V4("8.8.8.8"), kSideSource), std::vector<uint32_t>{9});
  EXPECT_EQ(set.rule_count(), 3u);
}

TEST(IpSetTest, V6PrefixesAndExactAddresses) {
  IpSetBuilder builder;
  builder.Add(V6("2001:db8::"), 32, {1, 0, kSideEither});
  builder.Add(V6("2001:db8:1::1"), 128, {2, 0, kSideEither});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V6("2001:db8:1::1"), kSideSource), std::vector<uint32_t>{2});
  EXPECT_EQ(Matches(set, V6("2001:db8:1::2"), kSideSource), std::vector<uint32_t>{1});
  EXPECT_TRUE(Matches(set, V6("2001:db9::1"), kSideSource).empty());
}

TEST(IpSetTest, V4AndV6SpacesStaySeparate) {
  IpSetBuilder builder;
  builder.Add(V6("::"), 1, {1, 0, kSideEither});
  const IpSet set = std::move(builder).Build();
  // ::/1 covers ::ffff:0:0/96 as bits, but IPv4 traffic must not match IPv6 rules.
  EXPECT_TRUE(Matches(set, V4("1.2.3.4"), kSideSource).empty());
}

TEST(IpSetTest, HostBitsBelowLengthAreIgnored) {
  IpSetBuilder builder;
  builder.Add(V4("198.51.100.77"), 24, {1, 0, kSideEither});
  const IpSet set = std::move(builder).Build();
  EXPECT_EQ(Matches(set, V4("198.51.100.1"), kSideSource), std::vector<uint32_t>{1});
}

TEST(IpSetTest, MaskHelpers) {
  EXPECT_EQ(MaskV4(0xC0A80101, 24), 0xC0A80100u);
  EXPECT_EQ(MaskV4(0xC0A80101, 0), 0u);
  EXPECT_EQ(MaskV4(0xC0A80101, 32), 0xC0A80101u);
  EXPECT_EQ(MaskV6(V6("2001:db8:ffff::1"), 36), V6("2001:db8:f000::"));
}

}  // namespace
}  // namespace sensor::dp

#include "dataplane/match/domain_set.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace sensor::dp {
namespace {

using Rules = std::vector<uint32_t>;

Rules Matches(const DomainSet& set, std::string_view name) {
  Rules indicators;
  set.Match(name, [&](const DomainRule& rule) { indicators.push_back(rule.indicator); });
  return indicators;
}

DomainSet BuildSet(const std::vector<std::pair<std::string, DomainRule>>& rules) {
  DomainSetBuilder builder;
  for (const auto& [name, rule] : rules) {
    EXPECT_TRUE(builder.Add(name, rule.kind, rule.indicator).ok()) << name;
  }
  return std::move(builder).Build();
}

constexpr DomainMatchKind kDomain = DomainMatchKind::kDomain;
constexpr DomainMatchKind kHostname = DomainMatchKind::kHostname;

TEST(DomainSetTest, DomainRuleCoversSubdomains) {
  const DomainSet set = BuildSet({{"example.com", {1, kDomain}}});
  EXPECT_EQ(Matches(set, "example.com"), Rules{1});
  EXPECT_EQ(Matches(set, "b.example.com"), Rules{1});
  EXPECT_EQ(Matches(set, "a.b.example.com"), Rules{1});
  EXPECT_TRUE(Matches(set, "com").empty());
  EXPECT_TRUE(Matches(set, "notexample.com").empty()) << "suffixes end at label boundaries";
  EXPECT_TRUE(Matches(set, "example.com.evil").empty());
}

TEST(DomainSetTest, HostnameRuleMatchesOnlyItself) {
  const DomainSet set = BuildSet({{"example.com", {2, kHostname}}});
  EXPECT_EQ(Matches(set, "example.com"), Rules{2});
  EXPECT_TRUE(Matches(set, "b.example.com").empty());
  EXPECT_TRUE(Matches(set, "a.b.example.com").empty());
}

TEST(DomainSetTest, DeepestMatchWins) {
  const DomainSet set = BuildSet({
      {"example.com", {1, kDomain}},
      {"b.example.com", {2, kDomain}},
      {"a.b.example.com", {3, kHostname}},
  });
  EXPECT_EQ(Matches(set, "a.b.example.com"), Rules{3});
  EXPECT_EQ(Matches(set, "x.a.b.example.com"), Rules{2}) << "the hostname rule covers no subdomain";
  EXPECT_EQ(Matches(set, "c.b.example.com"), Rules{2});
  EXPECT_EQ(Matches(set, "b.example.com"), Rules{2});
  EXPECT_EQ(Matches(set, "c.example.com"), Rules{1});
}

TEST(DomainSetTest, BothKindsOnOneName) {
  const DomainSet set = BuildSet({
      {"example.com", {1, kDomain}},
      {"example.com", {2, kHostname}},
      {"example.com", {4, kDomain}},
  });
  EXPECT_EQ(Matches(set, "example.com"), (Rules{1, 4, 2}));
  EXPECT_EQ(Matches(set, "www.example.com"), (Rules{1, 4}));
  EXPECT_EQ(set.name_count(), 1u);
  EXPECT_EQ(set.rule_count(), 3u);
}

TEST(DomainSetTest, RepeatedRuleIsKeptOnce) {
  const DomainSet set = BuildSet({
      {"example.com", {1, kDomain}},
      {"example.com", {1, kDomain}},
      {"example.com", {1, kHostname}},
  });
  EXPECT_EQ(Matches(set, "example.com"), (Rules{1, 1})) << "one domain and one hostname rule";
  EXPECT_EQ(set.rule_count(), 2u);
}

TEST(DomainSetTest, ManyRulesOnOneName) {
  // More than 127 rules make the record's count a two-byte varint.
  DomainSetBuilder builder;
  Rules expected;
  for (uint32_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(builder.Add("example.com", kDomain, i).ok());
    expected.push_back(i);
  }
  ASSERT_TRUE(builder.Add("example.com", kHostname, 1000).ok());
  const DomainSet set = std::move(builder).Build();
  Rules all = expected;
  all.push_back(1000);
  EXPECT_EQ(Matches(set, "example.com"), all);
  EXPECT_EQ(Matches(set, "a.example.com"), expected);
}

TEST(DomainSetTest, NonCanonicalNameIsRejected) {
  DomainSetBuilder builder;
  for (std::string_view name : {"Example.com", "example.com.", "a..b", "", "bücher.example"}) {
    const absl::Status status = builder.Add(name, kDomain, 1);
    EXPECT_FALSE(status.ok()) << name;
    EXPECT_NE(std::string(status.message().data(), status.message().size()).find("canonical"),
              std::string::npos);
  }
}

TEST(DomainSetTest, NonCanonicalLookupMatchesNothing) {
  const DomainSet set = BuildSet({{"example.com", {1, kDomain}}});
  EXPECT_TRUE(Matches(set, "").empty());
  EXPECT_TRUE(Matches(set, "EXAMPLE.COM").empty());
  EXPECT_TRUE(Matches(set, std::string(300, 'a')).empty());
  EXPECT_TRUE(Matches(set, std::string(253, '.')).empty());
}

TEST(DomainSetTest, EmptySetMatchesNothing) {
  const DomainSet set = std::move(DomainSetBuilder()).Build();
  EXPECT_TRUE(Matches(set, "example.com").empty());
  EXPECT_EQ(set.name_count(), 0u);
}

TEST(DomainSetTest, MatchAllSuffixesVisitsEveryLevel) {
  const DomainSet set = BuildSet({
      {"example.com", {1, kDomain}},
      {"b.example.com", {2, kDomain}},
      {"a.b.example.com", {3, kHostname}},
      {"com", {4, kHostname}},
  });
  std::vector<std::pair<std::string, uint32_t>> seen;
  const int count =
      set.MatchAllSuffixes("a.b.example.com", [&](std::string_view suffix, const DomainRule& rule) {
        seen.emplace_back(std::string(suffix), rule.indicator);
      });
  EXPECT_EQ(count, 3);
  const std::vector<std::pair<std::string, uint32_t>> expected = {
      {"a.b.example.com", 3}, {"b.example.com", 2}, {"example.com", 1}};
  EXPECT_EQ(seen, expected);
}

TEST(DomainSetTest, StringTableFindsEveryKey) {
  StringTableBuilder builder;
  for (uint32_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(builder.Add(fmt::format("key-{}", i), static_cast<int>(i % 2), i).ok());
  }
  EXPECT_FALSE(builder.Add("key", 2, 0).ok()) << "group out of range";
  const StringTable table = std::move(builder).Build();
  EXPECT_EQ(table.key_count(), 5000u);
  for (uint32_t i = 0; i < 5000; ++i) {
    const std::string key = fmt::format("key-{}", i);
    StringTable::Entry entry;
    ASSERT_TRUE(table.Find(HashString(key), key, entry)) << key;
    EXPECT_EQ(entry.key, key);
    const ValueList& values = entry.groups[i % 2];
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0], i);
    EXPECT_EQ(entry.groups[1 - i % 2].size(), 0u);
  }
  StringTable::Entry entry;
  EXPECT_FALSE(table.Find(HashString("key-5000"), "key-5000", entry));
  EXPECT_FALSE(table.Find(HashString(""), "", entry));
}

TEST(DomainSetTest, SuffixHashesEqualWholeNameHashes) {
  // Match() hashes the suffixes of the traffic name in one pass; each must equal the hash
  // the builder computed over the stored name alone.
  const std::string name = "a.bb.ccc.example.com";
  SuffixHasher hasher;
  for (size_t i = name.size(); i-- > 0;) {
    hasher.Prepend(name[i]);
    EXPECT_EQ(hasher.Hash(), HashString(std::string_view(name).substr(i))) << i;
  }
}

// One million synthetic names: half registered domains, half hostnames below them, with
// lengths near those of real feeds (10-35 characters).
std::string SyntheticName(uint32_t i) {
  static constexpr std::string_view kTlds[] = {"com", "net", "org", "info", "xyz", "ru", "cn"};
  if (i % 2 == 0) {
    return fmt::format("d{:x}-{}.{}", i * 2654435761u, i % 977, kTlds[i % 7]);
  }
  return fmt::format("cdn{}.d{:x}-{}.{}", i % 13, (i - 1) * 2654435761u, (i - 1) % 977,
                     kTlds[(i - 1) % 7]);
}

TEST(DomainSetTest, MillionNamesStayCompact) {
  constexpr uint32_t kNames = 1'000'000;
  DomainSetBuilder builder;
  size_t name_bytes = 0;
  for (uint32_t i = 0; i < kNames; ++i) {
    const std::string name = SyntheticName(i);
    name_bytes += name.size();
    ASSERT_TRUE(builder.Add(name, i % 2 == 0 ? kDomain : kHostname, i).ok()) << name;
  }
  const DomainSet set = std::move(builder).Build();
  ASSERT_EQ(set.name_count(), kNames);

  const size_t memory = set.MemoryBytes();
  const double bytes_per_name = static_cast<double>(memory) / kNames;
  std::printf(
      "DomainSet: %u names, %.1f characters per name on average, %zu bytes in all, "
      "%.1f bytes per name\n",
      kNames, static_cast<double>(name_bytes) / kNames, memory, bytes_per_name);
  EXPECT_LE(memory, 128u << 20) << "1M domains must fit in 128 MiB";

  // Every seventh name, so both kinds are checked and the test stays quick under ASan.
  for (uint32_t i = 0; i < kNames; i += 7) {
    const Rules matched = Matches(set, SyntheticName(i));
    ASSERT_EQ(matched, Rules{i}) << SyntheticName(i);
  }
  // A subdomain of a domain entry falls back to it; one of a hostname entry does not.
  EXPECT_EQ(Matches(set, "www." + SyntheticName(10)), Rules{10});
  EXPECT_EQ(Matches(set, "www." + SyntheticName(11)), Rules{10});
  EXPECT_TRUE(Matches(set, "absent.example").empty());
  EXPECT_TRUE(Matches(set, "d0-1.com").empty());
}

}  // namespace
}  // namespace sensor::dp

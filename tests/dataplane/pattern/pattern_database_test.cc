#include "dataplane/pattern/pattern_database.h"

#include <hs/hs.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/pattern/stream_pool.h"

namespace sensor::dp {
namespace {

int Collect(unsigned int id, unsigned long long, unsigned long long, unsigned int,
            void* context) {
  static_cast<std::vector<unsigned>*>(context)->push_back(id);
  return 0;
}

std::vector<unsigned> ScanBlock(const PatternDatabase& database, const std::string& data) {
  std::vector<unsigned> ids;
  EXPECT_EQ(hs_scan(database.block(), data.data(), static_cast<unsigned>(data.size()), 0,
                    database.scratch(0), Collect, &ids),
            HS_SUCCESS);
  return ids;
}

TEST(PatternFromMispValueTest, LiteralIsEscaped) {
  const PatternSource source = PatternFromMispValue("a.b+c", 3, "attr");
  EXPECT_EQ(source.expression, "\\x61\\x2e\\x62\\x2b\\x63");
  EXPECT_EQ(source.indicator, 3u);
  EXPECT_EQ(source.flags & HS_FLAG_CASELESS, 0u);
}

TEST(PatternFromMispValueTest, SlashedValueIsRegexWithFlags) {
  const PatternSource source = PatternFromMispValue("/union\\s+select/is", 1, "attr");
  EXPECT_EQ(source.expression, "union\\s+select");
  EXPECT_NE(source.flags & HS_FLAG_CASELESS, 0u);
  EXPECT_NE(source.flags & HS_FLAG_DOTALL, 0u);
}

TEST(PatternFromMispValueTest, PathIsLiteralNotRegex) {
  // "/etc/passwd" has an unknown "modifier" after the last slash, so it stays literal.
  const PatternSource source = PatternFromMispValue("/etc/passwd", 1, "attr");
  EXPECT_EQ(source.expression.substr(0, 4), "\\x2f");
}

TEST(PatternDatabaseTest, BadPatternRejectedOthersCompile) {
  std::vector<PatternSource> patterns = {
      PatternFromMispValue("UNION+SELECT", 0, "events/a.json: attribute u0"),
      PatternFromMispValue("/(?<=x)y/", 1, "events/a.json: attribute u1"),
      PatternFromMispValue("/select\\+null/i", 2, "events/a.json: attribute u2"),
  };
  std::vector<RejectedPattern> rejected;
  absl::StatusOr<std::unique_ptr<PatternDatabase>> database =
      PatternDatabase::Compile(patterns, 2, rejected);
  ASSERT_TRUE(database.ok()) << database.status();
  ASSERT_NE(*database, nullptr);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].indicator, 1u);
  EXPECT_NE(rejected[0].message.find("attribute u1"), std::string::npos);
  EXPECT_EQ((*database)->pattern_count(), 2u);
  EXPECT_NE((*database)->scratch(1), nullptr);
  EXPECT_EQ(ScanBlock(**database, "id=1'+UNION+SELECT+NULL"), (std::vector<unsigned>{0, 2}));
  EXPECT_TRUE(ScanBlock(**database, "union select").empty());
}

TEST(PatternDatabaseTest, NothingLeftGivesNull) {
  std::vector<RejectedPattern> rejected;
  absl::StatusOr<std::unique_ptr<PatternDatabase>> database =
      PatternDatabase::Compile({PatternFromMispValue("/(?<=x)y/", 0, "u")}, 1, rejected);
  ASSERT_TRUE(database.ok());
  EXPECT_EQ(*database, nullptr);
  EXPECT_EQ(rejected.size(), 1u);
}

TEST(PatternDatabaseTest, StreamFindsPatternSplitAcrossWrites) {
  std::vector<RejectedPattern> rejected;
  absl::StatusOr<std::unique_ptr<PatternDatabase>> database =
      PatternDatabase::Compile({PatternFromMispValue("UNION+SELECT", 7, "u")}, 1, rejected);
  ASSERT_TRUE(database.ok());
  StreamStatePool pool((*database)->stream_state_bytes(), 4);
  StreamStatePool::InstallStreamAllocator();
  StreamStatePool::BindToThisThread(&pool);
  hs_stream_t* stream = nullptr;
  ASSERT_EQ(hs_open_stream((*database)->stream(), 0, &stream), HS_SUCCESS);
  EXPECT_EQ(pool.in_use(), 1u);
  std::vector<unsigned> ids;
  const std::string first = "GET /?id=1'+UNI";
  const std::string second = "ON+SELECT+NULL";
  hs_scan_stream(stream, first.data(), first.size(), 0, (*database)->scratch(0), Collect, &ids);
  EXPECT_TRUE(ids.empty());
  hs_scan_stream(stream, second.data(), second.size(), 0, (*database)->scratch(0), Collect,
                 &ids);
  EXPECT_EQ(ids, std::vector<unsigned>{7});
  hs_close_stream(stream, (*database)->scratch(0), Collect, &ids);
  EXPECT_EQ(pool.in_use(), 0u);
  StreamStatePool::BindToThisThread(nullptr);
}

TEST(StreamStatePoolTest, ExhaustionAndOversizeAreCounted) {
  StreamStatePool pool(100, 2);
  void* a = pool.Allocate(100);
  void* b = pool.Allocate(64);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(pool.Allocate(10), nullptr);
  EXPECT_EQ(pool.exhausted(), 1u);
  EXPECT_EQ(pool.Allocate(1000), nullptr);
  EXPECT_EQ(pool.oversized(), 1u);
  int outside = 0;
  EXPECT_FALSE(pool.Free(&outside));
  EXPECT_TRUE(pool.Free(a));
  EXPECT_NE(pool.Allocate(10), nullptr);
}

}  // namespace
}  // namespace sensor::dp

#include "ctrlplane/tlp.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sensor::ctl {
namespace {

TEST(TlpTest, TagsInEitherCaseAndVersion) {
  EXPECT_EQ(TlpFromTag("tlp:white"), Tlp::kClear);
  EXPECT_EQ(TlpFromTag("tlp:clear"), Tlp::kClear);
  EXPECT_EQ(TlpFromTag("TLP:GREEN"), Tlp::kGreen);
  EXPECT_EQ(TlpFromTag("tlp:amber"), Tlp::kAmber);
  EXPECT_EQ(TlpFromTag("tlp:amber+strict"), Tlp::kAmberStrict);
  EXPECT_EQ(TlpFromTag("tlp:red"), Tlp::kRed);
  EXPECT_EQ(TlpFromTag("tlp:ex:chr"), std::nullopt);
  EXPECT_EQ(TlpFromTag("type:OSINT"), std::nullopt);
  EXPECT_EQ(TlpFromTag("red"), std::nullopt);  // A bare level is no TLP tag.
}

TEST(TlpTest, NamesForConfiguration) {
  EXPECT_EQ(TlpFromName("amber"), Tlp::kAmber);
  EXPECT_EQ(TlpFromName("tlp:red"), Tlp::kRed);
  EXPECT_EQ(TlpFromName("WHITE"), Tlp::kClear);
  EXPECT_EQ(TlpFromName("orange"), std::nullopt);
}

TEST(TlpTest, MostRestrictiveWins) {
  const std::vector<std::string> tags = {"tlp:green", "osint", "tlp:amber", "tlp:clear"};
  EXPECT_EQ(MostRestrictiveTlp(tags), Tlp::kAmber);
  EXPECT_EQ(MostRestrictiveTlp(std::vector<std::string>{"osint"}), std::nullopt);
}

TEST(TlpTest, EcsNames) {
  EXPECT_EQ(TlpEcsName(Tlp::kClear), "CLEAR");
  EXPECT_EQ(TlpEcsName(Tlp::kAmberStrict), "AMBER+STRICT");
  EXPECT_EQ(TlpName(Tlp::kAmberStrict), "amber+strict");
}

}  // namespace
}  // namespace sensor::ctl

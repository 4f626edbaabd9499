#include "ctrlplane/enrich/geoip.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace sensor::ctl {
namespace {

std::string DataPath(const std::string& name) {
  const char* root = std::getenv("SENSOR_TEST_DATA");
  return std::string(root != nullptr ? root : "tests/data") + "/mmdb/" + name;
}

dp::IpAddress Address(const char* text) {
  dp::IpAddress address;
  in_addr v4;
  if (inet_pton(AF_INET, text, &v4) == 1) return dp::IpAddress::FromV4(ntohl(v4.s_addr));
  EXPECT_EQ(inet_pton(AF_INET6, text, address.bytes.data()), 1) << text;
  return address;
}

class GeoIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<GeoIp>> opened =
        GeoIp::Open(DataPath("GeoIP2-City-Test.mmdb"), DataPath("GeoLite2-ASN-Test.mmdb"));
    ASSERT_TRUE(opened.ok()) << opened.status();
    geoip_ = std::move(*opened);
  }
  std::unique_ptr<GeoIp> geoip_;
};

// Expected values: the "::81.2.69.142/127" record of GeoIP2-City-Test.json, the source of
// the test database.
TEST_F(GeoIpTest, CityRecord) {
  const GeoResult result = geoip_->Lookup(Address("81.2.69.142"));
  EXPECT_EQ(result.city_name, "London");
  EXPECT_EQ(result.country_iso_code, "GB");
  EXPECT_EQ(result.country_name, "United Kingdom");
  EXPECT_EQ(result.continent_code, "EU");
  ASSERT_TRUE(result.latitude.has_value());
  EXPECT_DOUBLE_EQ(*result.latitude, 51.5142);
  EXPECT_DOUBLE_EQ(*result.longitude, -0.0931);
}

// Expected values: "1.128.0.0/11" and "2003::/19" in GeoLite2-ASN-Test.json.
TEST_F(GeoIpTest, AsnRecords) {
  const GeoResult telstra = geoip_->Lookup(Address("1.128.0.0"));
  ASSERT_TRUE(telstra.as_number.has_value());
  EXPECT_EQ(*telstra.as_number, 1221u);
  EXPECT_EQ(telstra.as_organization, "Telstra Pty Ltd");
  const GeoResult telekom = geoip_->Lookup(Address("2003:de:2016:110::b15:22"));
  ASSERT_TRUE(telekom.as_number.has_value());
  EXPECT_EQ(*telekom.as_number, 3320u);
  EXPECT_EQ(telekom.as_organization, "Deutsche Telekom AG");
}

TEST_F(GeoIpTest, UnknownAddressIsEmpty) {
  EXPECT_TRUE(geoip_->Lookup(Address("8.8.8.8")).empty());
}

TEST(GeoIpOpenTest, MissingFileNamed) {
  absl::StatusOr<std::unique_ptr<GeoIp>> opened = GeoIp::Open("/nonexistent/City.mmdb", "");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("/nonexistent/City.mmdb"), absl::string_view::npos);
}

TEST(GeoIpOpenTest, NotADatabase) {
  absl::StatusOr<std::unique_ptr<GeoIp>> opened =
      GeoIp::Open(DataPath("GeoIP2-City-Test.json"), "");
  EXPECT_FALSE(opened.ok());
}

}  // namespace
}  // namespace sensor::ctl

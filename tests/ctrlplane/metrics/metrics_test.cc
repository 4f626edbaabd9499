#include <curl/curl.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "ctrlplane/metrics/metrics_server.h"
#include "ctrlplane/metrics/prometheus_text.h"

namespace sensor::ctl {
namespace {

TEST(PrometheusTextTest, FamilyWithLabelledSamples) {
  PrometheusText page;
  page.Family("sensor_packets_total", MetricType::kCounter, "Packets received");
  page.Sample({{"worker", "0"}, {"lcore", "1"}}, uint64_t{42});
  page.Sample({{"worker", "1"}, {"lcore", "2"}}, uint64_t{0});
  page.Family("sensor_snapshot_age_seconds", MetricType::kGauge, "Age");
  page.Sample(1.5);
  EXPECT_EQ(page.text(),
            "# HELP sensor_packets_total Packets received\n"
            "# TYPE sensor_packets_total counter\n"
            "sensor_packets_total{worker=\"0\",lcore=\"1\"} 42\n"
            "sensor_packets_total{worker=\"1\",lcore=\"2\"} 0\n"
            "# HELP sensor_snapshot_age_seconds Age\n"
            "# TYPE sensor_snapshot_age_seconds gauge\n"
            "sensor_snapshot_age_seconds 1.5\n");
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  PrometheusText page;
  page.Family("m", MetricType::kGauge, "back\\slash and\nnewline \"quoted\"");
  page.Sample({{"source", "a\"b\\c\nd"}}, uint64_t{1});
  EXPECT_EQ(page.text(),
            "# HELP m back\\\\slash and\\nnewline \"quoted\"\n"
            "# TYPE m gauge\n"
            "m{source=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(PrometheusTextTest, SpecialFloatValues) {
  PrometheusText page;
  page.Family("m", MetricType::kGauge, "h");
  page.Sample(std::numeric_limits<double>::quiet_NaN());
  page.Sample(std::numeric_limits<double>::infinity());
  page.Sample(-std::numeric_limits<double>::infinity());
  page.Sample(0.1);
  EXPECT_EQ(page.text(),
            "# HELP m h\n# TYPE m gauge\nm NaN\nm +Inf\nm -Inf\nm 0.10000000000000001\n");
}

TEST(PrometheusTextTest, NameRules) {
  EXPECT_TRUE(IsValidMetricName("sensor_packets_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate:5m"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("lcore"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(ParseMetricsAddressTest, Forms) {
  absl::StatusOr<MetricsAddress> v4 = ParseMetricsAddress("127.0.0.1:9101");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_FALSE(v4->ipv6);
  absl::StatusOr<MetricsAddress> v6 = ParseMetricsAddress("[::1]:9101");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(v6->ipv6);
  EXPECT_TRUE(ParseMetricsAddress("0.0.0.0:0").ok());
  for (const char* bad : {"", "127.0.0.1", "::1:9101", "[::1]", "[::1]9101", "localhost:9101",
                          "127.0.0.1:65536", "127.0.0.1:port", "[127.0.0.1]:80", "1.2.3:80"}) {
    absl::StatusOr<MetricsAddress> parsed = ParseMetricsAddress(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
}

struct HttpResult {
  long status = 0;
  std::string body;
  std::string content_type;
};

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

HttpResult Fetch(const std::string& url, const char* method = "GET") {
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (std::string(method) == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) result.content_type = type;
  }
  curl_easy_cleanup(curl);
  return result;
}

TEST(MetricsServerTest, ServesPublishedPage) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server = MetricsServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = "http://" + (*server)->bound_address();
  EXPECT_NE((*server)->bound_address().find("127.0.0.1:"), std::string::npos);
  EXPECT_EQ(Fetch(base + "/metrics").status, 503);

  (*server)->Publish("# HELP a b\n# TYPE a gauge\na 1\n");
  HttpResult first = Fetch(base + "/metrics");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "# HELP a b\n# TYPE a gauge\na 1\n");
  EXPECT_EQ(first.content_type, "text/plain; version=0.0.4; charset=utf-8");

  (*server)->Publish("# HELP a b\n# TYPE a gauge\na 2\n");
  EXPECT_EQ(Fetch(base + "/metrics").body, "# HELP a b\n# TYPE a gauge\na 2\n");
  EXPECT_EQ(Fetch(base + "/metrics", "HEAD").status, 200);
  EXPECT_EQ(Fetch(base + "/other").status, 404);
  EXPECT_EQ(Fetch(base + "/metrics", "POST").status, 405);
  const MetricsServerStats stats = (*server)->stats();
  EXPECT_EQ(stats.scrapes, 3u);
  EXPECT_EQ(stats.not_found, 1u);
  EXPECT_EQ(stats.rejected_method, 1u);
}

TEST(MetricsServerTest, ServesOnIpv6Loopback) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server = MetricsServer::Start("[::1]:0");
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  (*server)->Publish("x 1\n");
  EXPECT_EQ((*server)->bound_address().rfind("[::1]:", 0), 0u);
  EXPECT_EQ(Fetch("http://" + (*server)->bound_address() + "/metrics").body, "x 1\n");
}

TEST(MetricsServerTest, PortInUseIsAnError) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> first = MetricsServer::Start("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start((*first)->bound_address());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("Address already in use"), absl::string_view::npos)
      << second.status();
}

}  // namespace
}  // namespace sensor::ctl

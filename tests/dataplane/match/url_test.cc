#include "dataplane/match/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensor::dp {
namespace {

using ::testing::HasSubstr;

std::string MessageOf(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

struct NormalizeCase {
  std::string_view input;
  std::string_view expected;
};

// Cases whose host is ASCII, so both planes must produce the same text.
const NormalizeCase kAsciiCases[] = {
    // RFC 3986 section 6.2.2: both spellings denote one resource.
    {"example://a/b/c/%7Bfoo%7D", "example://a/b/c/%7Bfoo%7D"},
    {"eXAMPLE://a/./b/../b/%63/%7bfoo%7d", "example://a/b/c/%7Bfoo%7D"},
    // Section 6.2.2.1: scheme and host are case-insensitive.
    {"HTTP://www.EXAMPLE.com/", "http://www.example.com/"},
    // Section 6.2.3: four spellings of one http URL.
    {"http://example.com", "http://example.com/"},
    {"http://example.com/", "http://example.com/"},
    {"http://example.com:/", "http://example.com/"},
    {"http://example.com:80/", "http://example.com/"},
    // Default ports are per scheme.
    {"https://example.com:443/a", "https://example.com/a"},
    {"https://example.com:80/a", "https://example.com:80/a"},
    {"http://example.com:443/a", "http://example.com:443/a"},
    {"http://example.com:0080/a", "http://example.com/a"},
    {"http://example.com:08080/a", "http://example.com:8080/a"},
    // Percent-encoding: unreserved characters decoded, the rest upper-cased.
    {"http://example.com/%7Euser", "http://example.com/~user"},
    {"http://example.com/%7euser", "http://example.com/~user"},
    {"http://example.com/~user", "http://example.com/~user"},
    {"http://example.com/a%2fb", "http://example.com/a%2Fb"},
    {"http://example.com/a%2Fb", "http://example.com/a%2Fb"},
    {"http://example.com/%41%5a%30%2D%2E%5F", "http://example.com/AZ0-._"},
    {"http://example.com/a b", "http://example.com/a%20b"},
    {"http://example.com/\xC3\xBC", "http://example.com/%C3%BC"},
    {"http://example.com/{x}|\"<>", "http://example.com/%7Bx%7D%7C%22%3C%3E"},
    {"http://example.com/100%", "http://example.com/100%25"},
    {"http://example.com/%zz", "http://example.com/%25zz"},
    {"http://example.com/%%34%31", "http://example.com/%2541"},
    // Reserved characters keep their meaning and stay as they are.
    {"http://example.com/a;b=c/d:e@f!$&'()*+,", "http://example.com/a;b=c/d:e@f!$&'()*+,"},
    // Fragment dropped; query kept, an empty one included.
    {"http://example.com/a#frag", "http://example.com/a"},
    {"http://example.com/a?#frag", "http://example.com/a?"},
    {"http://example.com?q=1", "http://example.com/?q=1"},
    {"http://example.com/p?a=%7e&b=%2f&c=/?", "http://example.com/p?a=~&b=%2F&c=/?"},
    // Dot segments (RFC 3986 section 5.2.4).
    {"http://example.com/a/b/c/./../../g", "http://example.com/a/g"},
    {"http://example.com/a/b/..", "http://example.com/a/"},
    {"http://example.com/a/b/.", "http://example.com/a/b/"},
    {"http://example.com/../x", "http://example.com/x"},
    {"http://example.com/./", "http://example.com/"},
    {"http://example.com/a/%2E%2E/b", "http://example.com/b"},
    {"http://example.com/a/.b/..c", "http://example.com/a/.b/..c"},
    {"http://example.com/a//b", "http://example.com/a//b"},
    // MISP values without a scheme are http.
    {"example.com/path", "http://example.com/path"},
    {"Example.com", "http://example.com/"},
    {"example.com:8080/x", "http://example.com:8080/x"},
    {"//example.com/x", "http://example.com/x"},
    {"example.com?a=http://x", "http://example.com/?a=http://x"},
    // Hosts: trailing dot, percent-encoded letters, IP literals.
    {"http://example.com./", "http://example.com/"},
    {"http://ex%41mple.com/", "http://example.com/"},
    {"http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"},
    {"http://[2001:DB8::1]:443/", "http://[2001:db8::1]:443/"},
    {"https://[2001:db8::1]:443/", "https://[2001:db8::1]/"},
    {"http://[::ffff:192.0.2.1]/", "http://[::ffff:192.0.2.1]/"},
    {"http://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/"},
    // Userinfo is kept; an empty one is dropped.
    {"http://User:Pass@Example.com/", "http://User:Pass@example.com/"},
    {"http://@example.com/", "http://example.com/"},
    {"http://a@b@example.com/", "http://a%40b@example.com/"},
    // Whitespace around the value.
    {"  http://example.com/a \n", "http://example.com/a"},
    // From MISP's STIX test event (misp-stixtest-all-types.json), type url.
    {"https://www.circl.lu/team", "https://www.circl.lu/team"},
    {"https://www.circl.lu", "https://www.circl.lu/"},
    // From the Infoblox feed event "sitting_ducks_20241113_iocs": defanged scheme and a
    // trailing space, and a bare host with a trailing space.
    {"hXXps://ecole-artcom.com/wdown/ ", "https://ecole-artcom.com/wdown/"},
    {"balticpipe.playroom8.site ", "http://balticpipe.playroom8.site/"},
    // From "vault_viper_20251016": host and path without a scheme.
    {"h9pvs-2eanqhz.csqq2g-fzc5i5.com/mysteries-pages/418.html",
     "http://h9pvs-2eanqhz.csqq2g-fzc5i5.com/mysteries-pages/418.html"},
};

TEST(UrlTest, NormalizesRfc3986AndMispCases) {
  for (const NormalizeCase& c : kAsciiCases) {
    absl::StatusOr<std::string> normalized = NormalizeUrl(c.input);
    ASSERT_TRUE(normalized.ok()) << c.input << ": " << normalized.status();
    EXPECT_EQ(*normalized, c.expected) << c.input;
  }
}

TEST(UrlTest, AsciiPathMatchesControlPath) {
  auto buffer = std::make_unique<UrlBuffer>();
  for (const NormalizeCase& c : kAsciiCases) {
    ASSERT_EQ(NormalizeAsciiUrl(c.input, *buffer), UrlStatus::kOk) << c.input;
    EXPECT_EQ(buffer->view(), c.expected) << c.input;
  }
}

TEST(UrlTest, NormalizingTwiceChangesNothing) {
  for (const NormalizeCase& c : kAsciiCases) {
    absl::StatusOr<std::string> again = NormalizeUrl(c.expected);
    ASSERT_TRUE(again.ok()) << c.expected << ": " << again.status();
    EXPECT_EQ(*again, c.expected);
  }
}

TEST(UrlTest, InternationalisedHosts) {
  absl::StatusOr<std::string> normalized = NormalizeUrl("http://Bücher.example/Straße");
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  EXPECT_EQ(*normalized, "http://xn--bcher-kva.example/Stra%C3%9Fe");

  normalized = NormalizeUrl("http://b%C3%BCcher.example/");
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  EXPECT_EQ(*normalized, "http://xn--bcher-kva.example/") << "UTF-8 percent-encoded in the host";

  auto buffer = std::make_unique<UrlBuffer>();
  EXPECT_EQ(NormalizeAsciiUrl("http://bücher.example/", *buffer), UrlStatus::kNonAsciiHost);
  EXPECT_EQ(NormalizeAsciiUrl("http://b%C3%BCcher.example/", *buffer), UrlStatus::kNonAsciiHost);
  ASSERT_EQ(NormalizeAsciiUrl("http://xn--bcher-kva.example/", *buffer), UrlStatus::kOk);
  EXPECT_EQ(buffer->view(), "http://xn--bcher-kva.example/");
}

TEST(UrlTest, InvalidUrlsAreRejected) {
  struct InvalidCase {
    std::string_view input;
    UrlStatus expected;
    std::string_view message;
  };
  const std::string long_path = "http://example.com/" + std::string(kMaxNormalizedUrlLength, 'a');
  const InvalidCase cases[] = {
      {"", UrlStatus::kEmpty, "empty"},
      {"  #frag", UrlStatus::kEmpty, "empty"},
      {"1http://example.com/", UrlStatus::kInvalidScheme, "scheme"},
      {"ht_tp://example.com/", UrlStatus::kInvalidScheme, "scheme"},
      {"http:///path", UrlStatus::kMissingHost, "host is missing"},
      // MISP url values that hold only a path cannot be matched.
      {"/admin/login.php", UrlStatus::kMissingHost, "host is missing"},
      {"http://exa$mple.com/", UrlStatus::kInvalidHost, "\"$\""},
      {"http://a..b/", UrlStatus::kInvalidHost, "empty label"},
      {"http://example.com%2F/", UrlStatus::kInvalidHost, "\"/\""},
      {"http://[zz::1]/", UrlStatus::kInvalidIpLiteral, "IPv6"},
      {"http://[::1/", UrlStatus::kInvalidIpLiteral, "IPv6"},
      {"http://[::1]x/", UrlStatus::kInvalidIpLiteral, "IPv6"},
      {"http://example.com:99999/", UrlStatus::kInvalidPort, "port"},
      {"http://example.com:80a/", UrlStatus::kInvalidPort, "port"},
      {long_path, UrlStatus::kTooLong, "8192"},
  };
  auto buffer = std::make_unique<UrlBuffer>();
  for (const InvalidCase& c : cases) {
    EXPECT_EQ(NormalizeAsciiUrl(c.input, *buffer), c.expected)
        << c.input << " expected " << UrlStatusName(c.expected);
    absl::StatusOr<std::string> normalized = NormalizeUrl(c.input);
    ASSERT_FALSE(normalized.ok()) << c.input;
    EXPECT_THAT(MessageOf(normalized.status()), HasSubstr(c.message)) << c.input;
    EXPECT_THAT(MessageOf(normalized.status()), HasSubstr("invalid URL")) << c.input;
  }
}

TEST(UrlTest, ControlPathRejectsInvalidALabelHost) {
  absl::StatusOr<std::string> normalized = NormalizeUrl("http://xn--zzzz.example/");
  ASSERT_FALSE(normalized.ok());
  EXPECT_THAT(MessageOf(normalized.status()), HasSubstr("A-label"));
}

TEST(UrlTest, HttpRequestOriginForm) {
  auto buffer = std::make_unique<UrlBuffer>();
  ASSERT_EQ(NormalizeHttpRequest("http", "Example.COM:80", "/a/%7Eb/../c?x=%7e#y", *buffer),
            UrlStatus::kOk);
  EXPECT_EQ(buffer->view(), "http://example.com/a/c?x=~");
  ASSERT_EQ(NormalizeHttpRequest("https", "www.circl.lu", "/team", *buffer), UrlStatus::kOk);
  EXPECT_EQ(buffer->view(), "https://www.circl.lu/team");
  EXPECT_EQ(NormalizeHttpRequest("http", "", "/x", *buffer), UrlStatus::kMissingHost);
}

TEST(UrlTest, HttpRequestAbsoluteFormIgnoresHost) {
  auto buffer = std::make_unique<UrlBuffer>();
  ASSERT_EQ(NormalizeHttpRequest("http", "proxy.example", "HTTP://Other.example:80/x", *buffer),
            UrlStatus::kOk);
  EXPECT_EQ(buffer->view(), "http://other.example/x");
}

TEST(UrlTest, HttpRequestOtherFormsAreRejected) {
  auto buffer = std::make_unique<UrlBuffer>();
  EXPECT_EQ(NormalizeHttpRequest("http", "example.com", "*", *buffer),
            UrlStatus::kInvalidRequestTarget);
  EXPECT_EQ(NormalizeHttpRequest("http", "example.com", "example.com:443", *buffer),
            UrlStatus::kInvalidRequestTarget);
  EXPECT_EQ(NormalizeHttpRequest("http", "example.com", "", *buffer),
            UrlStatus::kInvalidRequestTarget);
}

TEST(UrlTest, SplitNormalizedUrl) {
  UrlParts parts = SplitNormalizedUrl("https://user:pw@example.com:8443/a/b?x=1");
  EXPECT_EQ(parts.scheme, "https");
  EXPECT_EQ(parts.userinfo, "user:pw");
  EXPECT_EQ(parts.host, "example.com");
  EXPECT_EQ(parts.port, "8443");
  EXPECT_EQ(parts.path, "/a/b");
  EXPECT_EQ(parts.query, "x=1");
  EXPECT_TRUE(parts.has_query);

  parts = SplitNormalizedUrl("http://[2001:db8::1]:8080/");
  EXPECT_EQ(parts.host, "[2001:db8::1]");
  EXPECT_EQ(parts.port, "8080");
  EXPECT_EQ(parts.path, "/");
  EXPECT_FALSE(parts.has_query);

  parts = SplitNormalizedUrl("http://[2001:db8::1]/");
  EXPECT_EQ(parts.host, "[2001:db8::1]");
  EXPECT_EQ(parts.port, "");
}

std::vector<uint32_t> Matches(const UrlSet& set, std::string_view url) {
  std::vector<uint32_t> indicators;
  set.Match(url, [&](const UrlRule& rule) { indicators.push_back(rule.indicator); });
  return indicators;
}

TEST(UrlTest, UrlSetMatchesExactNormalizedUrl) {
  UrlSetBuilder builder;
  ASSERT_TRUE(builder.Add("https://www.circl.lu/team", 1).ok());
  ASSERT_TRUE(builder.Add("https://www.circl.lu/team", 2).ok());
  ASSERT_TRUE(builder.Add("http://example.com/~user", 3).ok());
  ASSERT_TRUE(builder.Add("http://example.com/~user", 3).ok());
  const UrlSet set = std::move(builder).Build();
  EXPECT_EQ(set.url_count(), 2u);
  EXPECT_EQ(set.rule_count(), 3u);

  EXPECT_EQ(Matches(set, "https://www.circl.lu/team"), (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(Matches(set, "https://www.circl.lu/team/").empty());
  EXPECT_TRUE(Matches(set, "http://www.circl.lu/team").empty());

  // Traffic that spells the URL differently matches once normalised.
  auto buffer = std::make_unique<UrlBuffer>();
  ASSERT_EQ(NormalizeHttpRequest("http", "EXAMPLE.com:80", "/%7Euser", *buffer), UrlStatus::kOk);
  EXPECT_EQ(Matches(set, buffer->view()), std::vector<uint32_t>{3});
}

TEST(UrlTest, UrlSetRejectsUnnormalizedUrl) {
  UrlSetBuilder builder;
  for (std::string_view url : {"HTTP://example.com/", "example.com/x", "http://example.com",
                               "http://example.com/%7e", "not a url at all"}) {
    const absl::Status status = builder.Add(url, 1);
    EXPECT_FALSE(status.ok()) << url;
    EXPECT_THAT(MessageOf(status), HasSubstr("normalised form")) << url;
  }
}

TEST(UrlTest, StatusNamesAreDistinct) {
  for (int i = 0; i < kUrlStatusCount; ++i) {
    for (int j = i + 1; j < kUrlStatusCount; ++j) {
      EXPECT_NE(UrlStatusName(static_cast<UrlStatus>(i)), UrlStatusName(static_cast<UrlStatus>(j)));
    }
  }
}

}  // namespace
}  // namespace sensor::dp

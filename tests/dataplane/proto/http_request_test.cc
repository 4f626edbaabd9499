// Tests for the HTTP/1.x request parser. Real requests come from public captures (see
// tests/data/pcap/SOURCES.md), read with libpcap and decoded by the sensor's decoder. The
// expected values are tshark 4.0's dissection of the same frames, named by field and frame
// number. Crafted requests cover partial input, Host forms and limits.
#include "dataplane/proto/http_request.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tests/dataplane/proto/capture_payloads.h"

namespace sensor::dp {

// GoogleTest finds this printer by argument-dependent lookup.
void PrintTo(HttpStatus status, std::ostream* out) { *out << HttpStatusName(status); }

namespace {

using testing::BytesOf;
using testing::PayloadOf;
using testing::ReadCapture;

std::string Url(const HttpRequestInfo& request) {
  std::array<char, 2048> buffer{};
  return std::string(BuildHttpUrl(request, buffer));
}

HttpStatus Parse(std::string_view text, HttpRequestInfo& request) {
  // The views in `request` point into this buffer, which lives until the next call.
  static std::vector<std::byte> bytes;
  bytes = BytesOf(text);
  return ParseHttpRequest(bytes, request);
}

struct CaptureRequest {
  const char* file;
  uint32_t frame;
  size_t tcp_length;      // tcp.len
  const char* host;       // http.host
  const char* uri;        // http.request.uri
  uint16_t header_count;  // entries of http.request.line
  const char* full_uri;   // http.request.full_uri
};

const std::string kLongPath = "/" + std::string(179, 'A');

const CaptureRequest kCaptureRequests[] = {
    {"http-get-bro.org.pcap", 4, 136, "bro.org", "/download/CHANGES.bro-aux.txt", 4,
     "http://bro.org/download/CHANGES.bro-aux.txt"},
    {"http-sqli-dvwa.pcapng", 13, 531, "192.168.111.154",
     "/dvwa/vulnerabilities/sqli/?id=1%27+OR+%271%27%3D%271&Submit=Submit", 9,
     "http://192.168.111.154/dvwa/vulnerabilities/sqli/?id=1%27+OR+%271%27%3D%271&Submit=Submit"},
    {"http-sqli-dvwa.pcapng", 41, 592, "192.168.111.154",
     "/dvwa/vulnerabilities/sqli/?id=1%27+UNION+SELECT+NULL%2C+version%28%29+%23&Submit=Submit",
     9,
     "http://192.168.111.154/dvwa/vulnerabilities/sqli/"
     "?id=1%27+UNION+SELECT+NULL%2C+version%28%29+%23&Submit=Submit"},
    {"http-sqli-dvwa.pcapng", 57, 592, "192.168.111.154",
     "/dvwa/vulnerabilities/sqli/?id=2%27+OR+%272%27%3D%272&Submit=Submit", 9,
     "http://192.168.111.154/dvwa/vulnerabilities/sqli/?id=2%27+OR+%272%27%3D%272&Submit=Submit"},
    // IPv6 under an 802.1Q tag.
    {"vlan-ipv6-http.pcap", 4, 149, "www.net1.bg", "/cgi-bin/cart32.exe", 3,
     "http://www.net1.bg/cgi-bin/cart32.exe"},
    // IPv4 under an 802.1Q tag, with the Host in upper case as sent.
    {"mpls-in-vlan-http.pcap", 1, 205, "AAAAAAAAAAAAA",
     "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 4,
     "http://AAAAAAAAAAAAA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
};

TEST(HttpCapture, RequestsMatchTshark) {
  for (const CaptureRequest& expected : kCaptureRequests) {
    SCOPED_TRACE(::testing::Message() << expected.file << " frame " << expected.frame);
    const auto frames = ReadCapture(expected.file);
    const std::vector<std::byte> payload = PayloadOf(frames, expected.frame);
    ASSERT_EQ(payload.size(), expected.tcp_length);
    HttpRequestInfo request;
    ASSERT_EQ(ParseHttpRequest(payload, request), HttpStatus::kOk);
    EXPECT_EQ(request.method, "GET");  // http.request.method
    EXPECT_EQ(request.target, expected.uri);
    EXPECT_EQ(request.target_form, HttpTargetForm::kOrigin);
    EXPECT_EQ(request.version_minor, 1);  // http.request.version HTTP/1.1
    EXPECT_TRUE(request.has_host);
    EXPECT_EQ(request.host, expected.host);
    EXPECT_FALSE(request.has_port);
    EXPECT_EQ(request.header_count, expected.header_count);
    EXPECT_EQ(request.head_length, expected.tcp_length);
    EXPECT_EQ(Url(request), expected.full_uri);
  }
}

// mpls-in-vlan-http.pcap frame 3: the request behind a VLAN tag and two MPLS labels, with
// a 180-character path (http.request.uri) and seven header lines.
TEST(HttpCapture, RequestUnderMplsLabels) {
  const auto frames = ReadCapture("mpls-in-vlan-http.pcap");
  ASSERT_EQ(frames[2].info.mpls_count, 2);
  const std::vector<std::byte> payload = PayloadOf(frames, 3);
  HttpRequestInfo request;
  ASSERT_EQ(ParseHttpRequest(payload, request), HttpStatus::kOk);
  EXPECT_EQ(request.host, "ww.example.org");
  EXPECT_EQ(request.target, kLongPath);
  EXPECT_EQ(request.header_count, 7);
  EXPECT_EQ(Url(request), "http://ww.example.org" + kLongPath);
}

// Every prefix of http-get-bro.org.pcap frame 4 is a partial request.
TEST(HttpCapture, EveryPrefixNeedsMoreBytes) {
  const auto frames = ReadCapture("http-get-bro.org.pcap");
  const std::vector<std::byte> payload = PayloadOf(frames, 4);
  HttpRequestInfo request;
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    ASSERT_EQ(ParseHttpRequest(std::span(payload).first(cut), request),
              HttpStatus::kNeedMoreBytes)
        << cut;
  }
  EXPECT_EQ(ParseHttpRequest(payload, request), HttpStatus::kOk);
}

TEST(HttpCrafted, CutInsideHostHeader) {
  HttpRequestInfo request;
  EXPECT_EQ(Parse("GET /index.html HTTP/1.1\r\nHo", request), HttpStatus::kNeedMoreBytes);
  EXPECT_EQ(Parse("GET /index.html HTTP/1.1\r\nHost: exam", request),
            HttpStatus::kNeedMoreBytes);
  EXPECT_FALSE(request.has_host);
  EXPECT_EQ(request.target, "/index.html");
  EXPECT_EQ(Parse("GET /index.html HTTP/1.1\r\nHost: example.com\r", request),
            HttpStatus::kNeedMoreBytes);
  // Once its line is complete the Host is set, though the head is not yet.
  EXPECT_EQ(Parse("GET /index.html HTTP/1.1\r\nHost: example.com\r\n", request),
            HttpStatus::kNeedMoreBytes);
  EXPECT_EQ(request.host, "example.com");
  EXPECT_EQ(Parse("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(Url(request), "http://example.com/index.html");
}

TEST(HttpCrafted, HostWithPort) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET /a HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.host, "example.com");
  EXPECT_TRUE(request.has_port);
  EXPECT_EQ(request.port, 8080);
  EXPECT_EQ(Url(request), "http://example.com:8080/a");

  ASSERT_EQ(Parse("GET /a HTTP/1.1\r\nHost: example.com:80\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.port, 80);
  EXPECT_EQ(Url(request), "http://example.com/a");

  // port = *DIGIT, so an empty port is valid and means none.
  ASSERT_EQ(Parse("GET /a HTTP/1.1\r\nHost: example.com:\r\n\r\n", request), HttpStatus::kOk);
  EXPECT_EQ(request.host, "example.com");
  EXPECT_FALSE(request.has_port);
}

TEST(HttpCrafted, Ipv6LiteralHost) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.host, "[2001:db8::1]");
  EXPECT_EQ(request.port, 8443);
  EXPECT_EQ(Url(request), "http://[2001:db8::1]:8443/");
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: [2001:db8::1\r\n\r\n", request), HttpStatus::kBadHost);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: []\r\n\r\n", request), HttpStatus::kBadHost);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", request), HttpStatus::kBadHost);
}

TEST(HttpCrafted, HostNameCaseAndWhitespace) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nhOsT: \t Example.COM \t\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.host, "Example.COM");
}

TEST(HttpCrafted, EmptyHostHasNoUrl) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nHost:\r\n\r\n", request), HttpStatus::kOk);
  EXPECT_TRUE(request.has_host);
  EXPECT_TRUE(request.host.empty());
  EXPECT_EQ(Url(request), "");
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n", request), HttpStatus::kOk);
  EXPECT_FALSE(request.has_host);
  EXPECT_EQ(request.version_minor, 0);
  EXPECT_EQ(Url(request), "");
}

TEST(HttpCrafted, InvalidHosts) {
  HttpRequestInfo request;
  for (const char* host : {"exa mple.com", "example.com:99999", "example.com:8o", "a/b",
                           "user@example.com", ":80", "example.com:123456"}) {
    EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n", request),
              HttpStatus::kBadHost)
        << host;
  }
  const std::string longest(kMaxHttpHostLength, 'h');
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: " + longest + "\r\n\r\n", request), HttpStatus::kOk);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: " + longest + "h\r\n\r\n", request),
            HttpStatus::kBadHost);
}

TEST(HttpCrafted, RawUtf8HostKept) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nHost: b\xC3\xBC" "cher.example\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.host, "b\xC3\xBC" "cher.example");
}

TEST(HttpCrafted, DuplicateHost) {
  HttpRequestInfo request;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a.example\r\nHOST: b.example\r\n\r\n", request),
            HttpStatus::kDuplicateHost);
  EXPECT_EQ(request.host, "a.example");
}

TEST(HttpCrafted, WhitespaceBeforeColon) {
  HttpRequestInfo request;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", request),
            HttpStatus::kBadHeader);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", request), HttpStatus::kBadHeader);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\n: value\r\n\r\n", request), HttpStatus::kBadHeader);
}

TEST(HttpCrafted, ObsoleteLineFolding) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nX-Long: part one\r\n  part two\r\nHost: a.example\r\n\r\n",
                  request),
            HttpStatus::kOk);
  EXPECT_EQ(request.host, "a.example");
  EXPECT_EQ(request.header_count, 2);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a.example\r\n\tb.example\r\n\r\n", request),
            HttpStatus::kBadHost);
}

TEST(HttpCrafted, BareLineFeeds) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET /x HTTP/1.1\nHost: a.example\n\n", request), HttpStatus::kOk);
  EXPECT_EQ(request.host, "a.example");
  EXPECT_EQ(request.head_length, 33u);
}

TEST(HttpCrafted, EmptyLinesBeforeRequestLine) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("\r\n\r\nGET /x HTTP/1.1\r\nHost: a.example\r\n\r\nbody", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.head_length, 4u + 17 + 17 + 2);
}

TEST(HttpCrafted, AbsoluteFormTarget) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET http://evil.example:8080/p?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
                  request),
            HttpStatus::kOk);
  EXPECT_EQ(request.target_form, HttpTargetForm::kAbsolute);
  EXPECT_EQ(request.host, "other.example");
  // RFC 9112 section 3.2.2: the target, not the Host field, names the resource.
  EXPECT_EQ(Url(request), "http://evil.example:8080/p?q=1");
}

TEST(HttpCrafted, AuthorityAndAsteriskForms) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", request),
            HttpStatus::kOk);
  EXPECT_EQ(request.target_form, HttpTargetForm::kAuthority);
  EXPECT_EQ(request.port, 443);
  EXPECT_EQ(Url(request), "");
  ASSERT_EQ(Parse("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n", request), HttpStatus::kOk);
  EXPECT_EQ(request.target_form, HttpTargetForm::kAsterisk);
  EXPECT_EQ(Url(request), "");
}

TEST(HttpCrafted, BadRequestTargets) {
  HttpRequestInfo request;
  EXPECT_EQ(Parse("GET  / HTTP/1.1\r\n\r\n", request), HttpStatus::kBadRequestLine);
  EXPECT_EQ(Parse("GET /a b HTTP/1.1\r\n\r\n", request), HttpStatus::kBadRequestLine);
  EXPECT_EQ(Parse("GET index.html HTTP/1.1\r\n\r\n", request), HttpStatus::kBadRequestLine);
  EXPECT_EQ(Parse("GET /\x01 HTTP/1.1\r\n\r\n", request), HttpStatus::kBadRequestLine);
}

TEST(HttpCrafted, NotHttp) {
  HttpRequestInfo request;
  // The first bytes of a TLS handshake record.
  EXPECT_EQ(Parse("\x16\x03\x01\x02", request), HttpStatus::kNotHttp);
  // The HTTP/2 connection preface.
  EXPECT_EQ(Parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", request), HttpStatus::kNotHttp);
  // HTTP/0.9 has no version.
  EXPECT_EQ(Parse("GET /\r\n", request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse("GET / FTP/1.0\r\n\r\n", request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse("GET / HTTP/1.x\r\n\r\n", request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse("SSH-2.0-OpenSSH_9.2\r\n", request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse(" GET / HTTP/1.1\r\n\r\n", request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse(std::string(kMaxHttpMethodLength + 1, 'G'), request), HttpStatus::kNotHttp);
  EXPECT_EQ(Parse(std::string(kMaxHttpMethodLength, 'G'), request), HttpStatus::kNeedMoreBytes);
  EXPECT_EQ(Parse("", request), HttpStatus::kNeedMoreBytes);
}

TEST(HttpCrafted, HeaderCountLimit) {
  std::string head = "GET / HTTP/1.1\r\nHost: a.example\r\n";
  for (size_t i = 1; i < kMaxHttpHeaderCount; ++i) {
    head += "X-Field: " + std::to_string(i) + "\r\n";
  }
  HttpRequestInfo request;
  ASSERT_EQ(Parse(head + "\r\n", request), HttpStatus::kOk);
  EXPECT_EQ(request.header_count, kMaxHttpHeaderCount);
  EXPECT_EQ(Parse(head + "X-Field: one too many\r\n\r\n", request),
            HttpStatus::kTooManyHeaders);
  EXPECT_EQ(request.host, "a.example");
}

TEST(HttpCrafted, HeadLengthLimit) {
  std::string head = "GET / HTTP/1.1\r\nHost: a.example\r\nX-Pad: ";
  head += std::string(kMaxHttpHeadLength - head.size() - 1, 'p');
  HttpRequestInfo request;
  EXPECT_EQ(Parse(head, request), HttpStatus::kNeedMoreBytes);
  EXPECT_EQ(Parse(head + "p", request), HttpStatus::kHeadTooLong);
  EXPECT_EQ(request.host, "a.example");
  EXPECT_EQ(Parse(head + "p\r\n\r\n", request), HttpStatus::kHeadTooLong);
}

TEST(HttpCrafted, UrlBufferTooSmall) {
  HttpRequestInfo request;
  ASSERT_EQ(Parse("GET /abc HTTP/1.1\r\nHost: a.example\r\n\r\n", request), HttpStatus::kOk);
  std::array<char, 20> exact{};
  EXPECT_EQ(BuildHttpUrl(request, exact), "http://a.example/abc");
  std::array<char, 19> small{};
  EXPECT_EQ(BuildHttpUrl(request, small), "");
}

TEST(HttpStatus, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kHttpStatusCount; ++i) {
    const std::string_view name = HttpStatusName(static_cast<HttpStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kHttpStatusCount));
}

}  // namespace
}  // namespace sensor::dp

// HTTP/1.x request parser for domain and URL extraction: the request line, the Host
// header field and, built from them, the absolute URL of the request (RFC 9112).
//
// Called on worker lcores with the first bytes a client sent on a TCP connection. It never
// allocates, locks or throws, and reads at most the first kMaxHttpHeadLength bytes of its
// input. The string views it returns point into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sensor::dp {

// Request line plus header section, blank line included: 16 KiB, about two of Apache
// httpd's default 8190-byte line limits (LimitRequestLine, LimitRequestFieldSize).
inline constexpr size_t kMaxHttpHeadLength = 16384;
// Apache httpd's default LimitRequestFields.
inline constexpr size_t kMaxHttpHeaderCount = 100;
inline constexpr size_t kMaxHttpMethodLength = 32;
inline constexpr size_t kMaxHttpHostLength = 255;

// Result of a parse. kOk, kNeedMoreBytes and kNotHttp are normal outcomes, and the rest are
// malformed requests. Every value is a named counter (see HttpStatusName).
enum class HttpStatus : uint8_t {
  kOk = 0,
  kNeedMoreBytes,    // A prefix of a valid request head. Call again with more bytes.
  kNotHttp,          // Not an HTTP/1.x request line, for example TLS or HTTP/2.
  kBadRequestLine,   // An HTTP/1.x version with an empty or invalid request-target.
  kHeadTooLong,      // No end of the header section within kMaxHttpHeadLength bytes.
  kTooManyHeaders,   // More than kMaxHttpHeaderCount header field lines.
  kBadHeader,        // A field line without a colon, or with whitespace or a non-token
                     // character before it (RFC 9112 section 5.1).
  kBadHost,          // A Host value that is not uri-host [":" port], or that is
                     // continued by obsolete line folding.
  kDuplicateHost,    // A second Host field line (RFC 9112 section 3.2).
  kCount,
};

inline constexpr int kHttpStatusCount = static_cast<int>(HttpStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view HttpStatusName(HttpStatus status);

// Form of the request-target (RFC 9112 section 3.2).
enum class HttpTargetForm : uint8_t {
  kOrigin,     // "/path?query"
  kAbsolute,   // "http://host/path", sent to proxies
  kAuthority,  // "host:port", with CONNECT
  kAsterisk,   // "*", with OPTIONS
};

// A parsed request head. Fields of lines read before a malformed or missing part stay set
// when the status is not kOk.
struct HttpRequestInfo {
  std::string_view method;
  std::string_view target;  // The request-target exactly as sent.
  HttpTargetForm target_form = HttpTargetForm::kOrigin;
  uint8_t version_minor = 0;  // The x of HTTP/1.x.
  bool has_host = false;
  // The uri-host of the Host field, trimmed, case kept, brackets kept around an IPv6
  // literal. Empty when the field is empty, which RFC 9112 section 3.2 allows.
  std::string_view host;
  bool has_port = false;
  uint16_t port = 0;
  uint16_t header_count = 0;
  // On kOk: the length of the head, so the body (if any) starts at this offset.
  size_t head_length = 0;
};

// Parses the request head at the start of `input`.
HttpStatus ParseHttpRequest(std::span<const std::byte> input, HttpRequestInfo& request);

// Writes the absolute URL of a parsed request into `buffer` and returns a view of it: an
// absolute-form target as sent, or "http://" + host + (":" + port unless 80) + an
// origin-form target. Returns an empty view for authority- and asterisk-form targets,
// without a non-empty Host, or when `buffer` is too small.
std::string_view BuildHttpUrl(const HttpRequestInfo& request, std::span<char> buffer);

}  // namespace sensor::dp

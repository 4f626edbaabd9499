// URL normalisation and the set of URL indicators.
//
// MISP `url` values and request URLs from traffic are normalised by the same code, so that
// equal resources compare equal as strings. The steps follow RFC 3986 section 6.2.2, plus
// the scheme-based steps of section 6.2.3 for http and https:
//  - leading and trailing whitespace and control characters are removed, and the
//    fragment ("#...") is dropped;
//  - a value without "scheme://" is taken as http, because MISP often stores
//    "example.com/path". "//host/path" is taken as http too. The defanged schemes "hxxp"
//    and "hxxps" of threat reports (in MISP feeds as "hXXps://...") are read as http and
//    https;
//  - the scheme is lower-cased; the host is percent-decoded and canonicalised as a domain
//    name (domain_name.h), which also covers dotted IPv4 literals, and an IPv6 literal
//    keeps its text, lower-cased, inside its brackets;
//  - an empty port and the default port (80 for http, 443 for https) are dropped, and any
//    other port is written in decimal without leading zeros;
//  - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other
//    percent-encodings get upper-case hex, and bytes that RFC 3986 does not allow in the
//    component (space, control characters, non-ASCII, " < > \ ^ ` { | }) are
//    percent-encoded as browsers send them. A "%" without two hex digits becomes "%25",
//    the literal percent sign that lenient servers read it as, so that normalising twice
//    changes nothing;
//  - dot segments are removed from the path (RFC 3986 section 5.2.4) and an empty path
//    becomes "/";
//  - userinfo and query are kept after the percent-encoding step, an empty "?" included.
//
// NormalizeUrl() is the control-plane entry point: it allocates and converts
// internationalised hosts. NormalizeAsciiUrl() and NormalizeHttpRequest() are for workers:
// any thread, no allocation, and a host with non-ASCII bytes yields kNonAsciiHost.
// UrlSet is built on the control thread by UrlSetBuilder, then immutable: any number of
// worker lcores may call Match() concurrently, and Match() never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/match/domain_set.h"

namespace sensor::dp {

// Longest normalised URL. Longer URLs are rejected on both planes, so an indicator that
// could never match traffic is reported when it is loaded.
inline constexpr size_t kMaxNormalizedUrlLength = 8192;

// Outcome of normalising one URL. Every value has a stable counter name (UrlStatusName).
enum class UrlStatus : uint8_t {
  kOk = 0,
  kEmpty,
  kInvalidScheme,  // "scheme://" with a character outside ALPHA DIGIT + - .
  kMissingHost,
  kInvalidHost,           // The host is not a valid domain name.
  kNonAsciiHost,          // Only NormalizeUrl() converts internationalised hosts.
  kInvalidIpLiteral,      // "[...]" that is not an IPv6 address.
  kInvalidPort,           // Not decimal digits, or above 65535.
  kInvalidRequestTarget,  // Neither origin-form ("/path") nor absolute-form.
  kTooLong,               // Longer than kMaxNormalizedUrlLength once normalised.
  kCount,
};

inline constexpr int kUrlStatusCount = static_cast<int>(UrlStatus::kCount);

// Stable snake_case name of a status, for counters and messages.
std::string_view UrlStatusName(UrlStatus status);

// Caller-owned output of the worker entry points. At 8 KiB it is better kept per lcore
// than on the stack of a hot function.
struct UrlBuffer {
  std::array<char, kMaxNormalizedUrlLength> bytes;
  size_t length = 0;

  std::string_view view() const { return {bytes.data(), length}; }
};

// Normalises `url` into `out` without allocating. `out` is valid only when the result is
// kOk.
UrlStatus NormalizeAsciiUrl(std::string_view url, UrlBuffer& out);

// Normalises the URL of an HTTP request into `out` without allocating. `scheme` is "http"
// or "https", `host` the Host header (or HTTP/2 :authority) and `target` the
// request-target. An origin-form target ("/path?query") is joined to `host`. An
// absolute-form target ("http://host/path", sent to proxies) is used alone, and `host` is
// ignored, as HTTP/1.1 servers must do since RFC 2068.
UrlStatus NormalizeHttpRequest(std::string_view scheme, std::string_view host,
                               std::string_view target, UrlBuffer& out);

// Normalises `url` for the control plane. Hosts are canonicalised with
// CanonicalizeDomainName(), so internationalised hosts become A-labels. The error message
// quotes `url` and states which part is invalid.
absl::StatusOr<std::string> NormalizeUrl(std::string_view url);

// The parts of a normalised URL, as views into it.
struct UrlParts {
  std::string_view scheme;
  std::string_view userinfo;  // Without the "@"; empty when absent.
  std::string_view host;      // IPv6 literals keep their brackets.
  std::string_view port;      // Empty when absent or default.
  std::string_view path;      // Starts with "/".
  std::string_view query;     // Without the "?"; see has_query.
  bool has_query = false;
};

// Splits the output of NormalizeUrl() or of the worker entry points.
UrlParts SplitNormalizedUrl(std::string_view normalized);

struct UrlRule {
  uint32_t indicator = 0;  // Index into the snapshot's indicator table.
};

class UrlSet {
 public:
  // Calls `on_rule(const UrlRule&)` for each rule of `normalized_url` and returns how many
  // it passed. Exact match on the normalised text; one table lookup.
  template <typename OnRule>
  int Match(std::string_view normalized_url, OnRule&& on_rule) const;

  size_t url_count() const { return table_.key_count(); }
  size_t rule_count() const { return table_.value_count(); }
  size_t MemoryBytes() const { return table_.MemoryBytes(); }

 private:
  friend class UrlSetBuilder;
  StringTable table_;
};

class UrlSetBuilder {
 public:
  // Adds a rule for `normalized_url`, which must be the output of NormalizeUrl(). A URL in
  // any other form is rejected with a message naming it.
  absl::Status Add(std::string_view normalized_url, uint32_t indicator);
  UrlSet Build() &&;

 private:
  StringTableBuilder table_;
};

template <typename OnRule>
int UrlSet::Match(std::string_view normalized_url, OnRule&& on_rule) const {
  StringTable::Entry entry;
  if (!table_.Find(HashString(normalized_url), normalized_url, entry)) {
    return 0;
  }
  const ValueList& rules = entry.groups[0];
  for (uint32_t i = 0; i < rules.size(); ++i) {
    on_rule(UrlRule{rules[i]});
  }
  return static_cast<int>(rules.size());
}

}  // namespace sensor::dp

// Canonical form of DNS names, the one form in which intelligence and traffic names are
// compared. A canonical name is ASCII lower case without a trailing dot, and its
// internationalised labels are A-labels ("xn--..."). Every label has 1-63 letters, digits,
// hyphens or underscores, and the name has at most 253 characters. Underscore is accepted
// because real DNS uses it (_dmarc, _sip._tcp), and hyphens are accepted in any position
// for the same reason. Spaces, tabs, CR and LF around the name are removed first, because
// MISP values carry them (a feed has the domain "ipv4.mikifox.com " with a trailing space).
//
// CanonicalizeDomainName() is the control-plane entry point: it allocates, converts
// Unicode labels with libidn2 and validates A-labels. CanonicalizeAsciiDomainName() is the
// worker entry point: any thread, no allocation, ASCII input only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sensor::dp {

inline constexpr size_t kMaxDomainNameLength = 253;  // Without the trailing dot.
inline constexpr size_t kMaxDomainLabelLength = 63;
// A name of 253 characters has at most 127 labels ("a.a.....a").
inline constexpr size_t kMaxDomainLabels = (kMaxDomainNameLength + 1) / 2;

// Outcome of canonicalising one name. Every value has a stable counter name (see
// DomainNameStatusName) so that workers can count the names they could not match.
enum class DomainNameStatus : uint8_t {
  kOk = 0,
  kEmpty,             // Nothing left after removing the trailing dot.
  kEmptyLabel,        // "a..b", ".a", or a second trailing dot.
  kLabelTooLong,      // More than kMaxDomainLabelLength characters.
  kNameTooLong,       // More than kMaxDomainNameLength characters.
  kInvalidCharacter,  // Not a letter, digit, hyphen or underscore.
  kNonAscii,          // A byte >= 0x80: only CanonicalizeDomainName() converts those.
  kCount,
};

inline constexpr int kDomainNameStatusCount = static_cast<int>(DomainNameStatus::kCount);

// Stable snake_case name of a status, for counters and messages.
std::string_view DomainNameStatusName(DomainNameStatus status);

// Caller-owned output of CanonicalizeAsciiDomainName(). Fits on the stack of a worker.
struct DomainNameBuffer {
  std::array<char, kMaxDomainNameLength> bytes;
  size_t length = 0;

  std::string_view view() const { return {bytes.data(), length}; }
};

// Canonicalises an ASCII name into `out` without allocating. `out` is valid only when the
// result is kOk.
//
// Any byte >= 0x80 yields kNonAscii and the name is not converted: names on the wire (DNS
// queries, TLS SNI, HTTP Host) are ASCII or already A-labels, so workers count kNonAscii
// as a name that could not be matched instead of running libidn2, which allocates.
//
// "xn--" labels are lower-cased but their Punycode is not decoded. A stored name never
// contains an invalid A-label, because CanonicalizeDomainName() rejects those, so such a
// label cannot equal a stored name, while the stored parent domains still match.
DomainNameStatus CanonicalizeAsciiDomainName(std::string_view name, DomainNameBuffer& out);

// Canonicalises `name` for the control plane. Labels with non-ASCII characters are
// converted to A-labels with libidn2 (NFC input, UTS #46 non-transitional mapping, IDNA2008
// rules), and the full stops U+3002, U+FF0E and U+FF61 separate labels as "." does. "xn--"
// labels must decode as Punycode and pass libidn2's UTS #46 checks. The IDNA2008 round trip
// is not required of them, so registered emoji names such as "xn--i-7iq.ws" stay valid.
// The error message quotes `name` and states which rule it breaks.
absl::StatusOr<std::string> CanonicalizeDomainName(std::string_view name);

namespace internal {

// Quotes input for a one-line error message: control characters, quote and backslash are
// escaped, and text after the first 80 bytes is replaced by "...".
std::string QuoteForMessage(std::string_view text);

}  // namespace internal

}  // namespace sensor::dp

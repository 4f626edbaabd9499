#include "dataplane/match/domain_name.h"

#include <idn2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace sensor::dp {
namespace {

constexpr size_t kMaxQuotedBytes = 80;
constexpr std::string_view kAceLabelPrefix = "xn--";

// Flags for Unicode labels: NFC first, then the UTS #46 mapping that browsers use.
constexpr int kIdnFlags = IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL;
// Flags for checking "xn--" labels. Without the IDNA2008 round trip, libidn2 still decodes
// the Punycode and applies the UTS #46 validity checks.
constexpr int kAceCheckFlags = IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL | IDN2_NO_ALABEL_ROUNDTRIP;

// Full stops that UTS #46 maps to "." (ideographic, fullwidth and halfwidth ideographic),
// in UTF-8.
constexpr std::string_view kUnicodeFullStops[] = {"\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1"};

// Debian's Abseil has its own string_view, which fmt cannot format.
std::string_view StatusText(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

bool IsLdhOrUnderscore(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

unsigned char ToLowerAscii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool HasNonAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return true;
    }
  }
  return false;
}

bool StartsWithAcePrefix(std::string_view label) {
  if (label.size() < kAceLabelPrefix.size()) {
    return false;
  }
  for (size_t i = 0; i < kAceLabelPrefix.size(); ++i) {
    if (ToLowerAscii(static_cast<unsigned char>(label[i])) != kAceLabelPrefix[i]) {
      return false;
    }
  }
  return true;
}

// The shared core of both entry points. On failure `error_offset` is the offset in `name`
// of the byte or label that breaks the rule.
DomainNameStatus Canonicalize(std::string_view name, DomainNameBuffer& out, size_t& error_offset) {
  out.length = 0;
  error_offset = 0;
  name = TrimSpace(name);
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return DomainNameStatus::kEmpty;
  }
  if (name.size() > kMaxDomainNameLength) {
    // A long name with non-ASCII bytes may still be short enough once converted.
    return HasNonAscii(name) ? DomainNameStatus::kNonAscii : DomainNameStatus::kNameTooLong;
  }
  size_t label_start = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == '.') {
      if (i == label_start) {
        error_offset = i;
        return DomainNameStatus::kEmptyLabel;
      }
      out.bytes[i] = '.';
      label_start = i + 1;
      continue;
    }
    if (c >= 0x80) {
      error_offset = i;
      return DomainNameStatus::kNonAscii;
    }
    const unsigned char lower = ToLowerAscii(c);
    if (!IsLdhOrUnderscore(lower)) {
      error_offset = i;
      return DomainNameStatus::kInvalidCharacter;
    }
    if (i - label_start >= kMaxDomainLabelLength) {
      error_offset = label_start;
      return DomainNameStatus::kLabelTooLong;
    }
    out.bytes[i] = static_cast<char>(lower);
  }
  if (label_start == name.size()) {
    // The name ended in two dots.
    error_offset = name.size();
    return DomainNameStatus::kEmptyLabel;
  }
  out.length = name.size();
  return DomainNameStatus::kOk;
}

std::string_view LabelAt(std::string_view name, size_t offset) {
  const size_t end = name.find('.', offset);
  return name.substr(offset, end == std::string_view::npos ? std::string_view::npos : end - offset);
}

absl::Status InvalidName(std::string_view name, std::string_view reason) {
  return absl::InvalidArgumentError(
      fmt::format("invalid domain name {}: {}", internal::QuoteForMessage(name), reason));
}

// Describes why `name` failed Canonicalize(), quoting the offending label or character.
std::string DescribeFailure(std::string_view name, DomainNameStatus status, size_t error_offset) {
  switch (status) {
    case DomainNameStatus::kEmpty:
      return "the name is empty";
    case DomainNameStatus::kEmptyLabel:
      return fmt::format("empty label at offset {}", error_offset);
    case DomainNameStatus::kLabelTooLong: {
      const std::string_view label = LabelAt(name, error_offset);
      return fmt::format("label {} has {} characters; the maximum is {}",
                         internal::QuoteForMessage(label), label.size(), kMaxDomainLabelLength);
    }
    case DomainNameStatus::kNameTooLong:
      return fmt::format("{} characters; the maximum is {}", name.size(), kMaxDomainNameLength);
    case DomainNameStatus::kInvalidCharacter:
      return fmt::format("character {} at offset {} is not a letter, digit, hyphen or underscore",
                         internal::QuoteForMessage(name.substr(error_offset, 1)), error_offset);
    case DomainNameStatus::kNonAscii:
      return fmt::format("non-ASCII byte at offset {}", error_offset);
    case DomainNameStatus::kOk:
    case DomainNameStatus::kCount:
      break;
  }
  return std::string(DomainNameStatusName(status));
}

// Runs libidn2's lookup conversion on one label. Returns the converted label, or an error
// whose message is libidn2's description of the failure.
absl::StatusOr<std::string> RunIdn2(std::string_view label, int flags) {
  std::string input(label);
  uint8_t* output = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()), &output, flags);
  if (rc != IDN2_OK) {
    return absl::InvalidArgumentError(idn2_strerror(rc));
  }
  std::string converted(reinterpret_cast<const char*>(output));
  idn2_free(output);
  return converted;
}

// Checks every "xn--" label of a canonical name with libidn2.
absl::Status CheckAceLabels(std::string_view original, std::string_view canonical) {
  size_t start = 0;
  while (start < canonical.size()) {
    const std::string_view label = LabelAt(canonical, start);
    if (StartsWithAcePrefix(label)) {
      absl::StatusOr<std::string> checked = RunIdn2(label, kAceCheckFlags);
      if (!checked.ok()) {
        return InvalidName(
            original, fmt::format("label {} is not a valid A-label: {}",
                                  internal::QuoteForMessage(label), StatusText(checked.status())));
      }
    }
    start += label.size() + 1;
  }
  return absl::OkStatus();
}

// Returns the length of the Unicode full stop at `text[offset]`, or 0 if there is none.
size_t UnicodeFullStopAt(std::string_view text, size_t offset) {
  for (std::string_view stop : kUnicodeFullStops) {
    if (text.substr(offset, stop.size()) == stop) {
      return stop.size();
    }
  }
  return 0;
}

// Converts the non-ASCII labels of `name` to A-labels and joins all labels with ".".
// ASCII labels are copied unchanged because libidn2 would reject hyphens in the first or
// last position, which real DNS names have.
absl::StatusOr<std::string> ConvertUnicodeLabels(std::string_view name) {
  std::string joined;
  size_t label_start = 0;
  size_t i = 0;
  while (i <= name.size()) {
    size_t separator_length = 0;
    if (i == name.size()) {
      separator_length = 0;
    } else if (name[i] == '.') {
      separator_length = 1;
    } else {
      separator_length = UnicodeFullStopAt(name, i);
      if (separator_length == 0) {
        ++i;
        continue;
      }
    }
    const std::string_view label = name.substr(label_start, i - label_start);
    if (HasNonAscii(label)) {
      absl::StatusOr<std::string> converted = RunIdn2(label, kIdnFlags);
      if (!converted.ok()) {
        return InvalidName(
            name, fmt::format("label {} cannot be converted to an A-label: {}",
                              internal::QuoteForMessage(label), StatusText(converted.status())));
      }
      joined += *converted;
    } else {
      joined += label;
    }
    if (i == name.size()) {
      break;
    }
    joined += '.';
    i += separator_length;
    label_start = i;
  }
  return joined;
}

}  // namespace

std::string_view DomainNameStatusName(DomainNameStatus status) {
  switch (status) {
    case DomainNameStatus::kOk:
      return "ok";
    case DomainNameStatus::kEmpty:
      return "empty";
    case DomainNameStatus::kEmptyLabel:
      return "empty_label";
    case DomainNameStatus::kLabelTooLong:
      return "label_too_long";
    case DomainNameStatus::kNameTooLong:
      return "name_too_long";
    case DomainNameStatus::kInvalidCharacter:
      return "invalid_character";
    case DomainNameStatus::kNonAscii:
      return "non_ascii";
    case DomainNameStatus::kCount:
      break;
  }
  return "unknown";
}

DomainNameStatus CanonicalizeAsciiDomainName(std::string_view name, DomainNameBuffer& out) {
  size_t error_offset = 0;
  return Canonicalize(name, out, error_offset);
}

absl::StatusOr<std::string> CanonicalizeDomainName(std::string_view name) {
  // Trimmed here as well as in Canonicalize() so that offsets in messages fit the quote.
  name = TrimSpace(name);
  std::string converted;
  std::string_view ascii = name;
  const bool has_unicode = HasNonAscii(name);
  if (has_unicode) {
    absl::StatusOr<std::string> joined = ConvertUnicodeLabels(name);
    if (!joined.ok()) {
      return joined.status();
    }
    converted = *std::move(joined);
    ascii = converted;
  }
  DomainNameBuffer buffer;
  size_t error_offset = 0;
  const DomainNameStatus status = Canonicalize(ascii, buffer, error_offset);
  if (status != DomainNameStatus::kOk) {
    // Offsets refer to the converted text, so quote that when it differs from the input.
    const std::string reason = DescribeFailure(ascii, status, error_offset);
    if (!has_unicode) {
      return InvalidName(name, reason);
    }
    return InvalidName(name, fmt::format("after conversion to {}: {}",
                                         internal::QuoteForMessage(converted), reason));
  }
  if (absl::Status checked = CheckAceLabels(name, buffer.view()); !checked.ok()) {
    return checked;
  }
  return std::string(buffer.view());
}

namespace internal {

std::string QuoteForMessage(std::string_view text) {
  const bool cut = text.size() > kMaxQuotedBytes;
  if (cut) {
    text = text.substr(0, kMaxQuotedBytes);
  }
  std::string quoted = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      quoted += fmt::format("\\x{:02X}", c);
    } else {
      quoted += static_cast<char>(c);
    }
  }
  quoted += cut ? "...\"" : "\"";
  return quoted;
}

}  // namespace internal
}  // namespace sensor::dp

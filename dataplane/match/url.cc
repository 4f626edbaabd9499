#include "dataplane/match/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/match/domain_name.h"
#include "fmt/format.h"

namespace sensor::dp {
namespace {

constexpr std::string_view kSchemeSeparator = "://";
constexpr std::string_view kDefaultScheme = "http";
constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr uint32_t kMaxPort = 65535;
// RFC 6874 writes the zone of a scoped IPv6 literal as "%25" plus the zone id.
constexpr std::string_view kIpv6ZoneSeparator = "%25";

struct DefaultPort {
  std::string_view scheme;
  uint32_t port;
};
constexpr DefaultPort kDefaultPorts[] = {{"http", 80}, {"https", 443}};

// Output cursor over a fixed buffer. Writing past the end sets `overflow` instead.
struct Writer {
  char* data = nullptr;
  size_t capacity = 0;
  size_t length = 0;
  bool overflow = false;

  void Put(char c) {
    if (length < capacity) {
      data[length++] = c;
    } else {
      overflow = true;
    }
  }
  void Append(std::string_view text) {
    for (char c : text) {
      Put(c);
    }
  }
  void PutPercentEncoded(unsigned char byte) {
    Put('%');
    Put(kUpperHex[byte >> 4]);
    Put(kUpperHex[byte & 0x0F]);
  }
};

// Control-plane additions to the worker path: IDN hosts and error details.
struct NormalizeOptions {
  bool convert_unicode_host = false;
  std::string* host_error = nullptr;  // Receives the canonicaliser's message, if set.
};

enum class Component { kUserinfo, kPath, kQuery };

bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

bool IsUnreserved(unsigned char c) {
  return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsSubDelimiter(unsigned char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// Characters RFC 3986 section 3 allows unencoded in each component, "%" aside.
bool IsAllowedIn(Component component, unsigned char c) {
  if (IsUnreserved(c) || IsSubDelimiter(c) || c == ':') {
    return true;
  }
  switch (component) {
    case Component::kUserinfo:
      return false;
    case Component::kPath:
      return c == '@' || c == '/';
    case Component::kQuery:
      return c == '@' || c == '/' || c == '?';
  }
  return false;
}

bool IsSchemeCharacter(unsigned char c) {
  return IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

bool IsBlank(char c) { return static_cast<unsigned char>(c) <= 0x20; }

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// Returns the byte encoded at text[i] ("%XX"), or -1 when text[i] starts no valid triplet.
int PercentEncodedByteAt(std::string_view text, size_t i) {
  if (text[i] != '%' || i + 2 >= text.size()) {
    return -1;
  }
  const int high = HexValue(text[i + 1]);
  const int low = HexValue(text[i + 2]);
  return (high < 0 || low < 0) ? -1 : high * 16 + low;
}

void WritePercentNormalized(std::string_view text, Component component, Writer& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '%') {
      const int decoded = PercentEncodedByteAt(text, i);
      if (decoded < 0) {
        out.PutPercentEncoded('%');
        continue;
      }
      const auto byte = static_cast<unsigned char>(decoded);
      if (IsUnreserved(byte)) {
        out.Put(static_cast<char>(byte));
      } else {
        out.PutPercentEncoded(byte);
      }
      i += 2;
      continue;
    }
    if (IsAllowedIn(component, c)) {
      out.Put(static_cast<char>(c));
    } else {
      out.PutPercentEncoded(c);
    }
  }
}

// Removes "." and ".." segments from an absolute path in place (RFC 3986 section 5.2.4)
// and returns the new length. The write position never passes the read position, so one
// buffer serves as input and output.
size_t RemoveDotSegments(char* path, size_t length) {
  size_t read = 0;
  size_t write = 0;
  while (read < length) {
    // `read` is at the "/" that starts a segment.
    size_t segment_end = read + 1;
    while (segment_end < length && path[segment_end] != '/') {
      ++segment_end;
    }
    const std::string_view segment(path + read + 1, segment_end - read - 1);
    if (segment == "." || segment == "..") {
      if (segment == "..") {
        while (write > 0 && path[write - 1] != '/') --write;
        if (write > 0) --write;  // The "/" before the removed segment.
      }
      read = segment_end;
      if (read == length) {
        path[write++] = '/';  // "/a/b/.." is "/a/", not "/a".
      }
      continue;
    }
    std::memmove(path + write, path + read, segment_end - read);
    write += segment_end - read;
    read = segment_end;
  }
  return write;
}

UrlStatus WriteIpLiteral(std::string_view literal, Writer& out) {
  // `literal` includes the brackets.
  std::string_view inner = literal.substr(1, literal.size() - 2);
  std::string_view address = inner.substr(0, inner.find(kIpv6ZoneSeparator));
  char text[INET6_ADDRSTRLEN];
  if (address.empty() || address.size() >= sizeof(text)) {
    return UrlStatus::kInvalidIpLiteral;
  }
  std::memcpy(text, address.data(), address.size());
  text[address.size()] = '\0';
  in6_addr parsed;
  if (inet_pton(AF_INET6, text, &parsed) != 1) {
    return UrlStatus::kInvalidIpLiteral;
  }
  for (char c : literal) {
    out.Put(ToLowerAscii(c));
  }
  return UrlStatus::kOk;
}

UrlStatus WriteConvertedHost(std::string_view decoded, Writer& out,
                             const NormalizeOptions& options) {
  absl::StatusOr<std::string> canonical = CanonicalizeDomainName(decoded);
  if (!canonical.ok()) {
    if (options.host_error != nullptr) {
      const auto message = canonical.status().message();
      options.host_error->assign(message.data(), message.size());
    }
    return UrlStatus::kInvalidHost;
  }
  out.Append(*canonical);
  return UrlStatus::kOk;
}

// A host after percent-decoding on the worker path, with room for the longest name plus
// its trailing dot.
struct DecodedHost {
  char bytes[kMaxDomainNameLength + 1];
  size_t length = 0;
  bool too_long = false;  // Bytes past the buffer were dropped.
  bool non_ascii = false;
};

// Percent-decodes `host` into `decoded`, and into `copy` as well unless it is null.
void PercentDecodeHost(std::string_view host, DecodedHost& decoded, std::string* copy) {
  for (size_t i = 0; i < host.size(); ++i) {
    int byte = static_cast<unsigned char>(host[i]);
    if (host[i] == '%') {
      if (const int value = PercentEncodedByteAt(host, i); value >= 0) {
        byte = value;
        i += 2;
      }
    }
    decoded.non_ascii |= byte >= 0x80;
    if (copy != nullptr) {
      copy->push_back(static_cast<char>(byte));
    }
    if (decoded.length < sizeof(decoded.bytes)) {
      decoded.bytes[decoded.length++] = static_cast<char>(byte);
    } else {
      decoded.too_long = true;
    }
  }
}

// Writes the canonical form of a reg-name or IPv4 host. Percent-encodings are decoded
// first, because RFC 3986 section 3.2.2 lets a reg-name carry UTF-8 that way.
UrlStatus WriteHost(std::string_view host, Writer& out, const NormalizeOptions& options) {
  if (host.empty()) {
    return UrlStatus::kMissingHost;
  }
  if (host.front() == '[') {
    return host.back() == ']' ? WriteIpLiteral(host, out) : UrlStatus::kInvalidIpLiteral;
  }

  DecodedHost decoded;
  std::string copy;  // The whole decoded host, needed only by the control plane.
  PercentDecodeHost(host, decoded, options.convert_unicode_host ? &copy : nullptr);
  if (options.convert_unicode_host) {
    return WriteConvertedHost(copy, out, options);
  }
  if (decoded.non_ascii) {
    return UrlStatus::kNonAsciiHost;
  }
  if (decoded.too_long) {
    return UrlStatus::kInvalidHost;  // No ASCII host that long is a valid name.
  }

  DomainNameBuffer canonical;
  if (CanonicalizeAsciiDomainName({decoded.bytes, decoded.length}, canonical) !=
      DomainNameStatus::kOk) {
    return UrlStatus::kInvalidHost;
  }
  out.Append(canonical.view());
  return UrlStatus::kOk;
}

UrlStatus WritePort(std::string_view port, std::string_view scheme, Writer& out) {
  if (port.empty()) {
    return UrlStatus::kOk;  // "http://example.com:/" has an empty port (RFC 3986 6.2.3).
  }
  uint32_t value = 0;
  for (char c : port) {
    if (!IsDigit(static_cast<unsigned char>(c))) {
      return UrlStatus::kInvalidPort;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > kMaxPort) {
      return UrlStatus::kInvalidPort;
    }
  }
  for (const DefaultPort& known : kDefaultPorts) {
    if (EqualsIgnoringCase(scheme, known.scheme) && value == known.port) {
      return UrlStatus::kOk;
    }
  }
  out.Put(':');
  char digits[8];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (count > 0) {
    out.Put(digits[--count]);
  }
  return UrlStatus::kOk;
}

UrlStatus WriteAuthority(std::string_view authority, std::string_view scheme, Writer& out,
                         const NormalizeOptions& options) {
  std::string_view host_port = authority;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    // An empty userinfo ("http://@host/") is dropped with its "@".
    if (at > 0) {
      WritePercentNormalized(authority.substr(0, at), Component::kUserinfo, out);
      out.Put('@');
    }
    host_port = authority.substr(at + 1);
  }
  std::string_view host = host_port;
  std::string_view port;
  if (!host_port.empty() && host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      return UrlStatus::kInvalidIpLiteral;
    }
    host = host_port.substr(0, close + 1);
    const std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return UrlStatus::kInvalidIpLiteral;
      }
      port = after.substr(1);
    }
  } else if (const size_t colon = host_port.rfind(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (const UrlStatus status = WriteHost(host, out, options); status != UrlStatus::kOk) {
    return status;
  }
  return WritePort(port, scheme, out);
}

// Writes the normalised URL from its three raw parts. `path_and_query` is empty or starts
// with "/" or "?".
UrlStatus WriteNormalized(std::string_view scheme, std::string_view authority,
                          std::string_view path_and_query, Writer& out,
                          const NormalizeOptions& options) {
  if (scheme.empty() || !IsAlpha(static_cast<unsigned char>(scheme.front()))) {
    return UrlStatus::kInvalidScheme;
  }
  for (char c : scheme) {
    if (!IsSchemeCharacter(static_cast<unsigned char>(c))) {
      return UrlStatus::kInvalidScheme;
    }
    out.Put(ToLowerAscii(c));
  }
  out.Append(kSchemeSeparator);
  if (const UrlStatus status = WriteAuthority(authority, scheme, out, options);
      status != UrlStatus::kOk) {
    return status;
  }

  const size_t query_start = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, query_start);
  const size_t path_offset = out.length;
  if (path.empty()) {
    out.Put('/');
  } else {
    WritePercentNormalized(path, Component::kPath, out);
  }
  if (out.overflow) {
    return UrlStatus::kTooLong;
  }
  out.length = path_offset + RemoveDotSegments(out.data + path_offset, out.length - path_offset);
  if (query_start != std::string_view::npos) {
    out.Put('?');
    WritePercentNormalized(path_and_query.substr(query_start + 1), Component::kQuery, out);
  }
  return out.overflow ? UrlStatus::kTooLong : UrlStatus::kOk;
}

// Reads the defanged schemes of threat reports ("hxxp", "hxxps", any case) as the real ones.
std::string_view RefangScheme(std::string_view scheme) {
  if (EqualsIgnoringCase(scheme, "hxxp")) return "http";
  if (EqualsIgnoringCase(scheme, "hxxps")) return "https";
  return scheme;
}

UrlStatus NormalizeInto(std::string_view url, Writer& out, const NormalizeOptions& options) {
  url = TrimBlanks(url);
  url = url.substr(0, url.find('#'));
  if (url.empty()) {
    return UrlStatus::kEmpty;
  }
  std::string_view scheme = kDefaultScheme;
  std::string_view rest = url;
  const size_t delimiter = url.find_first_of(":/?");
  if (delimiter != std::string_view::npos && url.substr(delimiter, 3) == kSchemeSeparator) {
    scheme = RefangScheme(url.substr(0, delimiter));
    rest = url.substr(delimiter + kSchemeSeparator.size());
  } else if (url.starts_with("//")) {
    rest = url.substr(2);
  }
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  return WriteNormalized(scheme, authority, path_and_query, out, options);
}

Writer WriterFor(UrlBuffer& buffer) {
  Writer writer;
  writer.data = buffer.bytes.data();
  writer.capacity = buffer.bytes.size();
  return writer;
}

std::string DescribeFailure(UrlStatus status, const std::string& host_error) {
  switch (status) {
    case UrlStatus::kEmpty:
      return "the URL is empty";
    case UrlStatus::kInvalidScheme:
      return "the scheme must start with a letter followed by letters, digits, \"+\", \"-\" "
             "or \".\"";
    case UrlStatus::kMissingHost:
      return "the host is missing";
    case UrlStatus::kInvalidHost:
      return host_error.empty() ? "the host is not a valid domain name"
                                : fmt::format("invalid host: {}", host_error);
    case UrlStatus::kInvalidIpLiteral:
      return "the host in brackets is not an IPv6 address";
    case UrlStatus::kInvalidPort:
      return fmt::format("the port is not a number from 0 to {}", kMaxPort);
    case UrlStatus::kTooLong:
      return fmt::format("longer than {} bytes once normalised", kMaxNormalizedUrlLength);
    case UrlStatus::kNonAsciiHost:
    case UrlStatus::kInvalidRequestTarget:
    case UrlStatus::kOk:
    case UrlStatus::kCount:
      break;
  }
  return std::string(UrlStatusName(status));
}

}  // namespace

std::string_view UrlStatusName(UrlStatus status) {
  switch (status) {
    case UrlStatus::kOk:
      return "ok";
    case UrlStatus::kEmpty:
      return "empty";
    case UrlStatus::kInvalidScheme:
      return "invalid_scheme";
    case UrlStatus::kMissingHost:
      return "missing_host";
    case UrlStatus::kInvalidHost:
      return "invalid_host";
    case UrlStatus::kNonAsciiHost:
      return "non_ascii_host";
    case UrlStatus::kInvalidIpLiteral:
      return "invalid_ip_literal";
    case UrlStatus::kInvalidPort:
      return "invalid_port";
    case UrlStatus::kInvalidRequestTarget:
      return "invalid_request_target";
    case UrlStatus::kTooLong:
      return "too_long";
    case UrlStatus::kCount:
      break;
  }
  return "unknown";
}

UrlStatus NormalizeAsciiUrl(std::string_view url, UrlBuffer& out) {
  Writer writer = WriterFor(out);
  const UrlStatus status = NormalizeInto(url, writer, NormalizeOptions{});
  out.length = status == UrlStatus::kOk ? writer.length : 0;
  return status;
}

UrlStatus NormalizeHttpRequest(std::string_view scheme, std::string_view host,
                               std::string_view target, UrlBuffer& out) {
  out.length = 0;
  target = target.substr(0, target.find('#'));
  if (target.starts_with('/')) {
    Writer writer = WriterFor(out);
    const UrlStatus status = WriteNormalized(scheme, host, target, writer, NormalizeOptions{});
    out.length = status == UrlStatus::kOk ? writer.length : 0;
    return status;
  }
  const size_t delimiter = target.find_first_of(":/?");
  if (delimiter != std::string_view::npos &&
      target.substr(delimiter, kSchemeSeparator.size()) == kSchemeSeparator) {
    return NormalizeAsciiUrl(target, out);
  }
  return UrlStatus::kInvalidRequestTarget;
}

absl::StatusOr<std::string> NormalizeUrl(std::string_view url) {
  auto buffer = std::make_unique<UrlBuffer>();
  Writer writer = WriterFor(*buffer);
  std::string host_error;
  NormalizeOptions options;
  options.convert_unicode_host = true;
  options.host_error = &host_error;
  const UrlStatus status = NormalizeInto(url, writer, options);
  if (status != UrlStatus::kOk) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid URL {}: {}", internal::QuoteForMessage(url), DescribeFailure(status, host_error)));
  }
  return std::string(writer.data, writer.length);
}

UrlParts SplitNormalizedUrl(std::string_view normalized) {
  UrlParts parts;
  const size_t scheme_end = normalized.find(kSchemeSeparator);
  if (scheme_end == std::string_view::npos) {
    return parts;
  }
  parts.scheme = normalized.substr(0, scheme_end);
  std::string_view rest = normalized.substr(scheme_end + kSchemeSeparator.size());
  const size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  const std::string_view path_and_query =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  const size_t host_end = authority.starts_with('[') ? authority.find(']') + 1 : 0;
  const size_t colon = authority.find(':', host_end);
  parts.host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    parts.port = authority.substr(colon + 1);
  }
  const size_t query_start = path_and_query.find('?');
  parts.path = path_and_query.substr(0, query_start);
  if (query_start != std::string_view::npos) {
    parts.query = path_and_query.substr(query_start + 1);
    parts.has_query = true;
  }
  return parts;
}

absl::Status UrlSetBuilder::Add(std::string_view normalized_url, uint32_t indicator) {
  absl::StatusOr<std::string> renormalized = NormalizeUrl(normalized_url);
  if (!renormalized.ok() || *renormalized != normalized_url) {
    return absl::InvalidArgumentError(
        fmt::format("URL {} is not in normalised form; pass it through NormalizeUrl() first",
                    internal::QuoteForMessage(normalized_url)));
  }
  return table_.Add(normalized_url, 0, indicator);
}

UrlSet UrlSetBuilder::Build() && {
  UrlSet set;
  set.table_ = std::move(table_).Build();
  return set;
}

}  // namespace sensor::dp

#include "dataplane/proto/http_request.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace sensor::dp {

namespace {

constexpr std::string_view kVersionPrefix = "HTTP/1.";
constexpr size_t kVersionLength = 8;  // "HTTP/1.1"
constexpr size_t kMaxPortDigits = 5;
constexpr uint32_t kMaxPort = 65535;
constexpr uint16_t kDefaultHttpPort = 80;

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOws(char c) { return c == ' ' || c == '\t'; }

// tchar of RFC 9110 section 5.6.2, the characters of methods and field names.
bool IsTokenChar(char c) {
  return IsAlpha(c) || IsDigit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) !=
                                         std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// Characters of a reg-name or IPv4address (RFC 3986 section 3.2.2): unreserved,
// pct-encoded and sub-delims. Octets above 0x7F are let through as well, so that raw UTF-8
// names reach the domain canonicaliser, which handles IDN.
bool IsHostChar(char c) {
  return IsAlpha(c) || IsDigit(c) || static_cast<unsigned char>(c) >= 0x80 ||
         std::string_view("-._~%!$&'()*+,;=").find(c) != std::string_view::npos;
}

// Characters between the brackets of an IP-literal: IPv6 addresses and IPvFuture.
bool IsIpLiteralChar(char c) { return IsHostChar(c) || c == ':'; }

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && IsOws(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && IsOws(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// A request line still without its line end can become valid only if it starts with a
// method token followed by a space.
HttpStatus CheckPartialRequestLine(std::string_view partial) {
  for (size_t i = 0; i < partial.size(); ++i) {
    if (partial[i] == ' ') {
      return i > 0 ? HttpStatus::kNeedMoreBytes : HttpStatus::kNotHttp;
    }
    if (!IsTokenChar(partial[i]) || i >= kMaxHttpMethodLength) {
      return HttpStatus::kNotHttp;
    }
  }
  return HttpStatus::kNeedMoreBytes;
}

// absolute-URI starts with a scheme (RFC 3986 section 3.1): ALPHA *( ALPHA / DIGIT / "+" /
// "-" / "." ) then ":". An HTTP proxy request adds "//" and the authority.
bool IsAbsoluteForm(std::string_view target) {
  const size_t colon = target.find("://");
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(target[0])) {
    return false;
  }
  return std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(colon),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' ||
                                         c == '.'; });
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 section 3).
HttpStatus ParseRequestLine(std::string_view line, HttpRequestInfo& request) {
  const size_t method_end = line.find(' ');
  if (method_end == std::string_view::npos || method_end > kMaxHttpMethodLength ||
      !IsToken(line.substr(0, method_end))) {
    return HttpStatus::kNotHttp;
  }
  const size_t version_start = line.rfind(' ') + 1;
  const std::string_view version = line.substr(version_start);
  // HTTP/0.9 requests have no version, and "PRI * HTTP/2.0" opens HTTP/2.
  if (version_start <= method_end + 1 || version.size() != kVersionLength ||
      !version.starts_with(kVersionPrefix) || !IsDigit(version.back())) {
    return HttpStatus::kNotHttp;
  }
  request.method = line.substr(0, method_end);
  request.version_minor = static_cast<uint8_t>(version.back() - '0');

  const std::string_view target =
      line.substr(method_end + 1, version_start - 1 - (method_end + 1));
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
      })) {
    return HttpStatus::kBadRequestLine;
  }
  request.target = target;
  if (target == "*") {
    request.target_form = HttpTargetForm::kAsterisk;
  } else if (target.front() == '/') {
    request.target_form = HttpTargetForm::kOrigin;
  } else if (request.method == "CONNECT") {
    request.target_form = HttpTargetForm::kAuthority;
  } else if (IsAbsoluteForm(target)) {
    request.target_form = HttpTargetForm::kAbsolute;
  } else {
    return HttpStatus::kBadRequestLine;
  }
  return HttpStatus::kOk;
}

// Host = uri-host [ ":" port ] (RFC 9110 section 7.2), with `value` already trimmed.
HttpStatus ParseHost(std::string_view value, HttpRequestInfo& request) {
  request.has_host = true;
  if (value.empty()) {
    return HttpStatus::kOk;
  }

  std::string_view host;
  std::string_view rest;
  if (value.front() == '[') {
    const size_t close = value.find(']');
    if (close == std::string_view::npos || close == 1 ||
        !std::all_of(value.begin() + 1, value.begin() + static_cast<std::ptrdiff_t>(close),
                     IsIpLiteralChar)) {
      return HttpStatus::kBadHost;
    }
    host = value.substr(0, close + 1);
    rest = value.substr(close + 1);
  } else {
    const size_t colon = std::min(value.find(':'), value.size());
    host = value.substr(0, colon);
    rest = value.substr(colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar)) {
      return HttpStatus::kBadHost;
    }
  }
  if (host.size() > kMaxHttpHostLength) {
    return HttpStatus::kBadHost;
  }
  request.host = host;

  if (rest.empty()) {
    return HttpStatus::kOk;
  }
  if (rest.front() != ':') {
    return HttpStatus::kBadHost;
  }
  // port = *DIGIT (RFC 3986 section 3.2.3), so "example.com:" is valid with no port.
  const std::string_view digits = rest.substr(1);
  if (digits.empty()) {
    return HttpStatus::kOk;
  }
  if (digits.size() > kMaxPortDigits || !std::all_of(digits.begin(), digits.end(), IsDigit)) {
    return HttpStatus::kBadHost;
  }
  uint32_t port = 0;
  for (char digit : digits) {
    port = port * 10 + static_cast<uint32_t>(digit - '0');
  }
  if (port > kMaxPort) {
    return HttpStatus::kBadHost;
  }
  request.has_port = true;
  request.port = static_cast<uint16_t>(port);
  return HttpStatus::kOk;
}

// Reads one header field line (RFC 9112 section 5.1). `line` has no line end and does not
// start with whitespace.
HttpStatus ParseFieldLine(std::string_view line, HttpRequestInfo& request,
                          bool& is_host) {
  const size_t colon = line.find(':');
  // IsToken rejects whitespace before the colon. RFC 9112 section 5.1 requires servers to
  // reject it, because differing handling of it has led to request routing attacks.
  if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
    return HttpStatus::kBadHeader;
  }
  is_host = EqualsIgnoreCase(line.substr(0, colon), "host");
  if (!is_host) {
    return HttpStatus::kOk;
  }
  if (request.has_host) {
    return HttpStatus::kDuplicateHost;
  }
  return ParseHost(TrimOws(line.substr(colon + 1)), request);
}

// Appends to a fixed buffer. Once something does not fit, every later append fails too.
class TextWriter {
 public:
  explicit TextWriter(std::span<char> buffer) : buffer_(buffer) {}

  void Append(std::string_view text) {
    if (!ok_ || buffer_.size() - length_ < text.size()) {
      ok_ = false;
      return;
    }
    std::memcpy(buffer_.data() + length_, text.data(), text.size());
    length_ += text.size();
  }

  void AppendDecimal(uint16_t value) {
    char digits[kMaxPortDigits];
    size_t count = 0;
    do {
      digits[kMaxPortDigits - 1 - count] = static_cast<char>('0' + value % 10);
      value = static_cast<uint16_t>(value / 10);
      ++count;
    } while (value != 0);
    Append(std::string_view(digits + kMaxPortDigits - count, count));
  }

  std::string_view Result() const {
    return ok_ ? std::string_view(buffer_.data(), length_) : std::string_view();
  }

 private:
  std::span<char> buffer_;
  size_t length_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string_view HttpStatusName(HttpStatus status) {
  switch (status) {
    case HttpStatus::kOk:
      return "ok";
    case HttpStatus::kNeedMoreBytes:
      return "need_more_bytes";
    case HttpStatus::kNotHttp:
      return "not_http";
    case HttpStatus::kBadRequestLine:
      return "bad_request_line";
    case HttpStatus::kHeadTooLong:
      return "head_too_long";
    case HttpStatus::kTooManyHeaders:
      return "too_many_headers";
    case HttpStatus::kBadHeader:
      return "bad_header";
    case HttpStatus::kBadHost:
      return "bad_host";
    case HttpStatus::kDuplicateHost:
      return "duplicate_host";
    case HttpStatus::kCount:
      break;
  }
  return "unknown";
}

HttpStatus ParseHttpRequest(std::span<const std::byte> input, HttpRequestInfo& request) {
  request = HttpRequestInfo{};
  const std::string_view text(reinterpret_cast<const char*>(input.data()),
                              std::min(input.size(), kMaxHttpHeadLength));
  size_t offset = 0;
  bool have_request_line = false;
  bool previous_is_host = false;

  while (true) {
    const size_t line_feed = text.find('\n', offset);
    if (line_feed == std::string_view::npos) {
      if (!have_request_line) {
        const HttpStatus status = CheckPartialRequestLine(text.substr(offset));
        if (status != HttpStatus::kNeedMoreBytes) {
          return status;
        }
      }
      return input.size() >= kMaxHttpHeadLength ? HttpStatus::kHeadTooLong
                                                 : HttpStatus::kNeedMoreBytes;
    }
    // RFC 9112 section 2.2 lets a recipient take a bare LF as a line end, and then
    // ignore a CR before it.
    std::string_view line = text.substr(offset, line_feed - offset);
    offset = line_feed + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }

    if (!have_request_line) {
      // Empty lines before the request-line are ignored (RFC 9112 section 2.2).
      if (line.empty()) {
        continue;
      }
      const HttpStatus status = ParseRequestLine(line, request);
      if (status != HttpStatus::kOk) {
        return status;
      }
      have_request_line = true;
      continue;
    }

    if (line.empty()) {
      request.head_length = offset;
      return HttpStatus::kOk;
    }
    // obs-fold continues the previous field value (RFC 9112 section 5.2). Only a folded
    // Host value matters here, and such a value is not a valid uri-host.
    if (IsOws(line.front())) {
      if (previous_is_host) {
        return HttpStatus::kBadHost;
      }
      continue;
    }
    if (++request.header_count > kMaxHttpHeaderCount) {
      return HttpStatus::kTooManyHeaders;
    }
    const HttpStatus status = ParseFieldLine(line, request, previous_is_host);
    if (status != HttpStatus::kOk) {
      return status;
    }
  }
}

std::string_view BuildHttpUrl(const HttpRequestInfo& request, std::span<char> buffer) {
  TextWriter writer(buffer);
  if (request.target_form == HttpTargetForm::kAbsolute) {
    writer.Append(request.target);
    return writer.Result();
  }
  if (request.target_form != HttpTargetForm::kOrigin || request.host.empty()) {
    return {};
  }
  writer.Append("http://");
  writer.Append(request.host);
  if (request.has_port && request.port != kDefaultHttpPort) {
    writer.Append(":");
    writer.AppendDecimal(request.port);
  }
  writer.Append(request.target);
  return writer.Result();
}

}  // namespace sensor::dp

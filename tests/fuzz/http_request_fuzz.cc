// Fuzz target for the HTTP/1.x request parser and what the worker does with its result:
// the absolute URL (BuildHttpUrl) and its normalised form (NormalizeHttpRequest).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

#include "dataplane/match/url.h"
#include "dataplane/proto/http_request.h"

namespace {

using sensor::dp::HttpRequestInfo;
using sensor::dp::HttpStatus;

// 8 KiB, kept out of the stack as the worker keeps it.
sensor::dp::UrlBuffer url;

bool Inside(std::string_view view, const uint8_t* data, size_t size) {
  if (view.empty()) return true;
  const auto* begin = reinterpret_cast<const uint8_t*>(view.data());
  return begin >= data && begin + view.size() <= data + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  HttpRequestInfo request;
  const HttpStatus status = sensor::dp::ParseHttpRequest(bytes, request);
  if (sensor::dp::HttpStatusName(status).empty()) __builtin_trap();
  if (!Inside(request.method, data, size) || !Inside(request.target, data, size) ||
      !Inside(request.host, data, size)) {
    __builtin_trap();
  }
  if (status != HttpStatus::kOk) return 0;
  if (request.head_length > size) __builtin_trap();

  char buffer[2 * sensor::dp::kMaxHttpHostLength + 64];
  const std::string_view absolute = sensor::dp::BuildHttpUrl(request, buffer);
  if (absolute.size() > sizeof(buffer)) __builtin_trap();

  // The Host header with its port, as Worker::InspectClientStream joins them.
  char authority_buffer[sensor::dp::kMaxHttpHostLength + 8];
  std::string_view authority = request.host;
  if (request.has_port) {
    const int length = std::snprintf(authority_buffer, sizeof(authority_buffer), "%.*s:%u",
                                     static_cast<int>(request.host.size()), request.host.data(),
                                     static_cast<unsigned>(request.port));
    authority = std::string_view(authority_buffer, static_cast<size_t>(length));
  }
  if (sensor::dp::NormalizeHttpRequest("http", authority, request.target, url) ==
          sensor::dp::UrlStatus::kOk &&
      url.length > url.bytes.size()) {
    __builtin_trap();
  }
  return 0;
}

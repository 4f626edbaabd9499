#include "ctrlplane/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "ctrlplane/metrics/prometheus_text.h"

namespace sensor::ctl {
namespace {

constexpr unsigned kMaxConnections = 16;
constexpr unsigned kConnectionTimeoutSeconds = 10;

absl::Status InvalidAddress(std::string_view text, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid --metrics address '", ToAbsl(text), "': ", ToAbsl(reason),
      "; use ADDRESS:PORT with a numeric address, for example 127.0.0.1:9101 or [::1]:9101"));
}

std::string FormatBound(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    return absl::StrCat("[", text, "]:", ntohs(in6.sin6_port));
  }
  const auto& in4 = reinterpret_cast<const sockaddr_in&>(address);
  inet_ntop(AF_INET, &in4.sin_addr, text, sizeof(text));
  return absl::StrCat(text, ":", ntohs(in4.sin_port));
}

// Queues a response with a copy of `body`; libmicrohttpd leaves the body out for HEAD.
MHD_Result Queue(MHD_Connection* connection, unsigned status, std::string_view body,
                 std::string_view content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          std::string(content_type).c_str());
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

}  // namespace

struct MetricsServer::Callbacks {
  static MHD_Result HandleRequest(void* self, MHD_Connection* connection, const char* url,
                                  const char* method, const char* /*version*/,
                                  const char* /*upload_data*/, size_t* /*upload_data_size*/,
                                  void** /*request_state*/) {
    return static_cast<MHD_Result>(
        static_cast<MetricsServer*>(self)->Respond(connection, url, method));
  }
};

absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidAddress(text, "an IPv6 address in brackets must be followed by :PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return InvalidAddress(text, "the port is missing");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidAddress(text, "an IPv6 address must be written in brackets");
    }
  }
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidAddress(text, "the port must be a number from 0 to 65535");
  }

  MetricsAddress parsed;
  const std::string host_string(host);
  auto* in4 = reinterpret_cast<sockaddr_in*>(&parsed.address);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&parsed.address);
  if (inet_pton(AF_INET, host_string.c_str(), &in4->sin_addr) == 1 && text.front() != '[') {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port));
    parsed.length = sizeof(sockaddr_in);
    return parsed;
  }
  if (inet_pton(AF_INET6, host_string.c_str(), &in6->sin6_addr) == 1 && text.front() == '[') {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    parsed.length = sizeof(sockaddr_in6);
    parsed.ipv6 = true;
    return parsed;
  }
  return InvalidAddress(text, "the address is not a numeric IPv4 or bracketed IPv6 address");
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(std::string_view address) {
  absl::StatusOr<MetricsAddress> parsed = ParseMetricsAddress(address);
  if (!parsed.ok()) return parsed.status();

  // The socket is bound here rather than by libmicrohttpd so that errors carry errno and
  // port 0 can be read back.
  const int fd = socket(parsed->ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create a socket for --metrics: ", std::strerror(errno)));
  }
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (parsed->ipv6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&parsed->address), parsed->length) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat("cannot listen on --metrics address ",
                                                      ToAbsl(address), ": ", std::strerror(error)));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);

  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->bound_address_ = FormatBound(bound);
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
  if (parsed->ipv6) flags |= MHD_USE_IPv6;
  // On success libmicrohttpd owns the socket and closes it in MHD_stop_daemon().
  server->daemon_ =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &Callbacks::HandleRequest, server.get(),
                       MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
                       MHD_OPTION_CONNECTION_TIMEOUT, kConnectionTimeoutSeconds, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    // NOTE: the socket is not closed here, because libmicrohttpd may already have closed
    // it on this path, and closing it twice could close an unrelated descriptor. A failed
    // start may therefore leave it open.
    return absl::InternalError(
        absl::StrCat("cannot start the HTTP server for --metrics ", ToAbsl(address)));
  }
  LogInfo("metrics", "event=listening address={} path=/metrics", server->bound_address_);
  return server;
}

MetricsServer::~MetricsServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

void MetricsServer::Publish(std::string page) {
  auto next = std::make_shared<const std::string>(std::move(page));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    page_.swap(next);
  }
  // The previous page is released here, outside the lock, unless a scrape still holds it.
}

MetricsServerStats MetricsServer::stats() const {
  MetricsServerStats stats;
  stats.scrapes = scrapes_.load(std::memory_order_relaxed);
  stats.not_found = not_found_.load(std::memory_order_relaxed);
  stats.rejected_method = rejected_method_.load(std::memory_order_relaxed);
  return stats;
}

int MetricsServer::Respond(MHD_Connection* connection, std::string_view url,
                           std::string_view method) {
  if (method != MHD_HTTP_METHOD_GET && method != MHD_HTTP_METHOD_HEAD) {
    rejected_method_.fetch_add(1, std::memory_order_relaxed);
    return Queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed\n",
                 "text/plain; charset=utf-8");
  }
  if (url != "/metrics") {
    not_found_.fetch_add(1, std::memory_order_relaxed);
    return Queue(connection, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n",
                 "text/plain; charset=utf-8");
  }
  std::shared_ptr<const std::string> page;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    page = page_;
  }
  if (page == nullptr) {
    return Queue(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "metrics are not ready yet\n",
                 "text/plain; charset=utf-8");
  }
  scrapes_.fetch_add(1, std::memory_order_relaxed);
  return Queue(connection, MHD_HTTP_OK, *page, kPrometheusContentType);
}

}  // namespace sensor::ctl

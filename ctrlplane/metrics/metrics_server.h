// HTTP endpoint for Prometheus: serves GET /metrics (and HEAD) with the page last passed
// to Publish(), on a libmicrohttpd thread of its own.
//
// The HTTP thread never reads sensor state. The control thread renders the page from
// its own state and calls Publish(), which swaps the page under a mutex. The HTTP thread
// copies the current page under the same mutex, so a scrape always receives one whole
// page.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace sensor::ctl {

// A listening address given as "ADDRESS:PORT", IPv6 in brackets ("[::1]:9101").
struct MetricsAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
  bool ipv6 = false;
};

// Parses "127.0.0.1:9101", "[::1]:9101" or "0.0.0.0:0" (port 0: any free port). Addresses
// must be numeric; InvalidArgument names the text and the expected form.
absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text);

struct MetricsServerStats {
  uint64_t scrapes = 0;    // GET or HEAD /metrics served with status 200.
  uint64_t not_found = 0;  // Other paths.
  uint64_t rejected_method = 0;
};

class MetricsServer {
 public:
  // Binds `address` ("ADDRESS:PORT") and starts serving. Until the first Publish(), a
  // scrape gets 503.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(std::string_view address);
  ~MetricsServer();  // Stops the HTTP thread.

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Replaces the page that scrapes receive. Any thread.
  void Publish(std::string page);

  // The address actually bound, as "127.0.0.1:9101" or "[::1]:9101"; the port is the one
  // the kernel chose when the request gave 0.
  const std::string& bound_address() const { return bound_address_; }
  MetricsServerStats stats() const;

 private:
  MetricsServer() = default;
  // Holds the libmicrohttpd callback, whose return type the header cannot name.
  struct Callbacks;
  friend struct Callbacks;
  // Queues the response to one request; returns libmicrohttpd's MHD_YES or MHD_NO.
  int Respond(MHD_Connection* connection, std::string_view url, std::string_view method);

  MHD_Daemon* daemon_ = nullptr;
  std::string bound_address_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::string> page_;  // Guarded by mutex_.
  std::atomic<uint64_t> scrapes_{0};
  std::atomic<uint64_t> not_found_{0};
  std::atomic<uint64_t> rejected_method_{0};
};

}  // namespace sensor::ctl

// HTTP transport for MISP sync: one libcurl handle with TLS settings, connect and total
// timeouts, conditional GET (ETag, Last-Modified) and retries with exponential backoff and
// jitter. Also reads the API key file.
//
// A MispHttpClient is used by one thread at a time. Nothing here logs or formats the API
// key: it is passed in a header that no message repeats.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef void CURL;

namespace sensor::misp {

struct HttpOptions {
  std::string ca_file;     // PEM bundle that signs the server certificate; empty: system CAs.
  bool verify_tls = true;  // Peer certificate and host name checks.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};  // One attempt, connect to last byte.
  // Attempts after the first one for timeouts, connection errors, 408, 429 and 5xx.
  int retries = 2;
  // Backoff before retry n (from 0) is a random time in [d/2, d], where d is
  // backoff_initial * 2^n capped at backoff_max.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{10'000};
  size_t max_response_bytes = size_t{512} << 20;
};

struct HttpRequest {
  std::string method = "GET";  // GET or POST.
  std::string url;
  std::string body;  // POST body, sent as application/json.
  // Extra header lines ("Name: value"). May contain the API key, so never logged or echoed.
  std::vector<std::string> secret_headers;
  std::string if_none_match;      // ETag from an earlier response, sent as If-None-Match.
  std::string if_modified_since;  // Last-Modified from an earlier response.
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;
  std::string last_modified;
  std::string content_type;
  int attempts = 0;  // Requests sent, retries included.
};

class MispHttpClient {
 public:
  static absl::StatusOr<std::unique_ptr<MispHttpClient>> Create(const HttpOptions& options);
  ~MispHttpClient();
  MispHttpClient(const MispHttpClient&) = delete;
  MispHttpClient& operator=(const MispHttpClient&) = delete;

  // Sends `request`, retrying as HttpOptions describes, and returns the last response
  // whatever its status (a 5xx after the last retry included). Transport failures after the
  // last retry return DeadlineExceeded (timed out), Unavailable (refused, reset, TLS
  // handshake, DNS), ResourceExhausted (response too large) or Cancelled (abort flag
  // raised). An untrusted server certificate returns FailedPrecondition at once. Error
  // messages name the method and URL, never header values.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request);

  // A flag that, once raised, ends the request or backoff in progress within about a second.
  void set_abort_flag(const std::atomic<bool>* abort) { abort_ = abort; }

 private:
  MispHttpClient() = default;
  absl::StatusOr<HttpResponse> SendOnce(const HttpRequest& request);
  void Sleep(std::chrono::milliseconds delay);

  CURL* curl_ = nullptr;
  HttpOptions options_;
  const std::atomic<bool>* abort_ = nullptr;
};

// True for the HTTP statuses worth a retry: 408, 429 and 5xx.
bool IsRetryableStatus(long status);

// The backoff before retry `retry` (0 for the first retry) for a uniform random `unit` in
// [0, 1): see HttpOptions::backoff_initial.
std::chrono::milliseconds BackoffDelay(const HttpOptions& options, int retry, double unit);

// Checks an http:// or https:// URL for a MISP source. Rejects other schemes, user
// credentials in the URL (the API key goes in --misp-key-file), query strings and
// fragments. `what` names the option in the message.
absl::Status ValidateMispUrl(std::string_view url, std::string_view what);

// Reads the MISP API key from `path`. The file must be a regular file without group or
// other permission bits, else the error names the file and the chmod that fixes it.
// Surrounding white space is removed; the key must be one non-empty line.
absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path);

// Replaces every occurrence of `secret` in `text` with "<redacted>". A server could echo
// a request header in its error page, and such text ends up in error messages.
std::string Redact(std::string_view text, std::string_view secret);

}  // namespace sensor::misp

// The HTTP side of the Elasticsearch output: a libcurl connection with API key or basic
// authentication and TLS settings, plus the pure functions that build _bulk request
// bodies and read their per-item results.
//
// An ElasticsearchClient is used by one thread at a time. The other functions are
// stateless and thread-safe.
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
struct curl_slist;

namespace sensor::ctl {

struct ElasticsearchConnectionOptions {
  std::string url;              // http(s)://host[:port][/path prefix], no credentials.
  std::string api_key_file;     // Encoded API key, or "id:api_key" (encoded here).
  std::string basic_auth_file;  // "user:password" on one line.
  std::string ca_file;          // PEM bundle for the server certificate; empty: system CAs.
  bool verify_tls = true;       // Peer certificate and host name checks.
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};  // Whole request, upload to last byte.
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

class ElasticsearchClient {
 public:
  // Checks the URL and reads the credential files (which must not be accessible to group
  // or others); no request is sent yet.
  static absl::StatusOr<std::unique_ptr<ElasticsearchClient>> Create(
      const ElasticsearchConnectionOptions& options);
  ~ElasticsearchClient();
  ElasticsearchClient(const ElasticsearchClient&) = delete;
  ElasticsearchClient& operator=(const ElasticsearchClient&) = delete;

  // Sends one request to `path` below the base URL and returns the response whatever
  // its HTTP status. Transport failures return DeadlineExceeded (timed out), Unavailable
  // (connection refused, reset, TLS failure...) or Cancelled (the abort flag was raised).
  absl::StatusOr<HttpResponse> Send(std::string_view method, std::string_view path,
                                    std::string_view body, std::string_view content_type,
                                    bool gzip_encoded);

  // A flag that, once raised, aborts the request in progress within about a second.
  void set_abort_flag(const std::atomic<bool>* abort) { abort_ = abort; }
  const std::string& base_url() const { return base_url_; }

 private:
  ElasticsearchClient() = default;

  CURL* curl_ = nullptr;
  std::string base_url_;       // Without a trailing slash.
  std::string authorization_;  // Full header line, or empty. Never logged.
  std::string basic_auth_;     // user:password for CURLOPT_USERPWD, or empty. Never logged.
  ElasticsearchConnectionOptions options_;
  const std::atomic<bool>* abort_ = nullptr;
};

// Reads a credential file: it must be a regular file with no group or other permission
// bits, else the error names the file and the chmod that fixes it. Surrounding white
// space is removed.
absl::StatusOr<std::string> ReadCredentialFile(const std::string& path,
                                               std::string_view description);

// The Authorization header value for an API key: an encoded key as Kibana and the
// _security/api_key API return it, or "id:api_key", which is base64-encoded here.
std::string ApiKeyAuthorization(std::string_view key);

// Checks an index name pattern: literal index name characters plus %Y, %m, %d, %H and
// %%, which FormatIndexName() replaces from the alert's @timestamp.
absl::Status ValidateIndexPattern(std::string_view pattern);

// Expands an index pattern for a document whose @timestamp is `timestamp` (RFC 3339,
// UTC). A timestamp that does not start with "YYYY-MM-DDTHH" uses `fallback_unix_s`.
std::string FormatIndexName(std::string_view pattern, std::string_view timestamp,
                            int64_t fallback_unix_s);

// The fields of an alert document the bulk action needs.
struct DocumentKeys {
  std::string id;         // event.id; empty if the document has none.
  std::string timestamp;  // @timestamp; empty if absent.
};
absl::StatusOr<DocumentKeys> ExtractDocumentKeys(std::string_view document);

// Appends a create action and its source to a _bulk body. Without an id, Elasticsearch
// assigns one, and a retry could then store the document twice.
void AppendBulkCreate(std::string& body, std::string_view index, std::string_view id,
                      std::string_view document);

// Compresses with gzip framing (RFC 1952), for Content-Encoding: gzip.
absl::StatusOr<std::string> GzipCompress(std::string_view data);

struct BulkItemResult {
  int status = 0;
  std::string id;
  std::string error_type;    // error.type, e.g. "mapper_parsing_exception".
  std::string error_reason;  // error.reason.
};

struct BulkResponse {
  bool errors = false;
  std::vector<BulkItemResult> items;  // In the order of the request's actions.
};

// Parses a _bulk response body. InvalidArgument when it is not the documented shape.
absl::StatusOr<BulkResponse> ParseBulkResponse(std::string_view body);

enum class BulkItemOutcome {
  kCreated,         // 2xx.
  kAlreadyPresent,  // 409 on create: stored by an earlier attempt, so delivered.
  kRetry,           // 429 and 5xx: try again later.
  kDeadLetter,      // Any other status: the document itself is rejected.
};
BulkItemOutcome ClassifyBulkItem(int status);

}  // namespace sensor::ctl

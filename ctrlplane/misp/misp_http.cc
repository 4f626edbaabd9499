#include "ctrlplane/misp/misp_http.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/curl_transport.h"
#include "ctrlplane/log.h"

namespace sensor::misp {
namespace {

struct ResponseState {
  HttpResponse* response = nullptr;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<ResponseState*>(user);
  const size_t bytes = size * count;
  if (state->response->body.size() + bytes > state->max_bytes) {
    state->too_large = true;
    return 0;
  }
  state->response->body.append(data, bytes);
  return bytes;
}

// Keeps the validators and the content type of the final response. A status line starts
// the headers of a new response (after a 100 Continue, for example), so it clears them.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<ResponseState*>(user);
  const size_t bytes = size * count;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    state->response->etag.clear();
    state->response->last_modified.clear();
    state->response->content_type.clear();
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;
  const absl::string_view name = line.substr(0, colon);
  const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  if (absl::EqualsIgnoreCase(name, "ETag")) {
    state->response->etag = value;
  } else if (absl::EqualsIgnoreCase(name, "Last-Modified")) {
    state->response->last_modified = value;
  } else if (absl::EqualsIgnoreCase(name, "Content-Type")) {
    state->response->content_type = value;
  }
  return bytes;
}

double UniformUnit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace

bool IsRetryableStatus(long status) { return status == 408 || status == 429 || status >= 500; }

std::chrono::milliseconds BackoffDelay(const HttpOptions& options, int retry, double unit) {
  double full = static_cast<double>(options.backoff_initial.count());
  for (int i = 0; i < retry && full < static_cast<double>(options.backoff_max.count()); ++i) {
    full *= 2;
  }
  full = std::min(full, static_cast<double>(options.backoff_max.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(full / 2 + unit * full / 2));
}

absl::Status ValidateMispUrl(std::string_view url, std::string_view what) {
  ctl::InitCurlOnce();
  CURLU* handle = curl_url();
  const std::string text(url);
  const CURLUcode parsed = curl_url_set(handle, CURLUPART_URL, text.c_str(), 0);
  char* scheme = nullptr;
  char* user = nullptr;
  char* password = nullptr;
  char* query = nullptr;
  char* fragment = nullptr;
  if (parsed == CURLUE_OK) {
    curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(handle, CURLUPART_USER, &user, 0);
    curl_url_get(handle, CURLUPART_PASSWORD, &password, 0);
    curl_url_get(handle, CURLUPART_QUERY, &query, 0);
    curl_url_get(handle, CURLUPART_FRAGMENT, &fragment, 0);
  }
  const std::string scheme_name = scheme != nullptr ? scheme : "";
  const bool has_credentials = user != nullptr || password != nullptr;
  const bool has_query = query != nullptr || fragment != nullptr;
  for (char* part : {scheme, user, password, query, fragment}) curl_free(part);
  curl_url_cleanup(handle);

  if (has_credentials) {
    // The URL itself is not repeated: it contains a secret.
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what),
                     " URL contains a user name or password; remove them and put the MISP "
                     "API key in the file given to --misp-key-file"));
  }
  if (parsed != CURLUE_OK || (scheme_name != "http" && scheme_name != "https")) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", ToAbsl(what), " URL '", ToAbsl(url),
                                                   "': expected http://HOST[:PORT]/PATH or "
                                                   "https://HOST[:PORT]/PATH"));
  }
  if (has_query) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), " URL '", ToAbsl(url),
                                                   "' has a query string or fragment; remove it"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read MISP API key file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("MISP API key file ", path, " is not a regular file"));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "MISP API key file %s is accessible to group or others (mode %04o); run chmod 600 %s", path,
        info.st_mode & 07777, path));
  }

  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) {
    return absl::UnavailableError(
        absl::StrCat("cannot read MISP API key file ", path, ": ", std::strerror(errno)));
  }

  std::string key(absl::StripAsciiWhitespace(content.str()));
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("MISP API key file ", path, " is empty"));
  }
  if (key.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MISP API key file ", path, " has more than one line; put only the key in it"));
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MISP API key file ", path, " contains a control character; put only the key in it"));
    }
  }
  return key;
}

std::string Redact(std::string_view text, std::string_view secret) {
  std::string result(text);
  if (secret.empty()) return result;
  size_t position = 0;
  while ((position = result.find(secret, position)) != std::string::npos) {
    result.replace(position, secret.size(), "<redacted>");
    position += std::string_view("<redacted>").size();
  }
  return result;
}

absl::StatusOr<std::unique_ptr<MispHttpClient>> MispHttpClient::Create(const HttpOptions& options) {
  ctl::InitCurlOnce();
  if (!options.ca_file.empty()) {
    std::ifstream probe(options.ca_file);
    if (!probe) {
      return absl::NotFoundError(
          absl::StrCat("cannot read MISP CA file ", options.ca_file, ": ", std::strerror(errno)));
    }
  }
  std::unique_ptr<MispHttpClient> client(new MispHttpClient());
  client->options_ = options;
  client->curl_ = curl_easy_init();
  if (client->curl_ == nullptr) return absl::InternalError("curl_easy_init failed");
  return client;
}

MispHttpClient::~MispHttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

void MispHttpClient::Sleep(std::chrono::milliseconds delay) {
  // Sleeps in short steps so that a raised abort flag ends the wait quickly.
  const auto end = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < end) {
    if (abort_ != nullptr && abort_->load(std::memory_order_relaxed)) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(100), end - std::chrono::steady_clock::now()));
  }
}

absl::StatusOr<HttpResponse> MispHttpClient::Send(const HttpRequest& request) {
  absl::StatusOr<HttpResponse> result;
  for (int attempt = 0;; ++attempt) {
    result = SendOnce(request);
    const bool retryable = result.ok() ? IsRetryableStatus(result->status)
                                       : (absl::IsDeadlineExceeded(result.status()) ||
                                          absl::IsUnavailable(result.status()));
    if (result.ok()) result->attempts = attempt + 1;
    if (!retryable || attempt >= options_.retries) {
      if (!result.ok() && attempt > 0) {
        return absl::Status(result.status().code(), absl::StrCat(result.status().message(), " (",
                                                                 attempt + 1, " attempts)"));
      }
      return result;
    }
    if (abort_ != nullptr && abort_->load(std::memory_order_relaxed)) return result;
    const std::chrono::milliseconds delay = BackoffDelay(options_, attempt, UniformUnit());
    if (result.ok()) {
      ctl::LogWarn("misp", "{} {}: HTTP {}; retry {} of {} in {} ms", request.method, request.url,
                   result->status, attempt + 1, options_.retries, delay.count());
    } else {
      ctl::LogWarn("misp", "{}; retry {} of {} in {} ms", ToStd(result.status().message()),
                   attempt + 1, options_.retries, delay.count());
    }
    Sleep(delay);
  }
}

absl::StatusOr<HttpResponse> MispHttpClient::SendOnce(const HttpRequest& request) {
  HttpResponse response;
  ResponseState state{&response, options_.max_response_bytes, false};
  char error[CURL_ERROR_SIZE] = {};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  // libcurl would send "Expect: 100-continue" for large bodies and wait for a response.
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (!request.if_none_match.empty()) {
    headers =
        curl_slist_append(headers, absl::StrCat("If-None-Match: ", request.if_none_match).c_str());
  }
  if (!request.if_modified_since.empty()) {
    headers = curl_slist_append(
        headers, absl::StrCat("If-Modified-Since: ", request.if_modified_since).c_str());
  }
  for (const std::string& line : request.secret_headers) {
    headers = curl_slist_append(headers, line.c_str());
  }

  CURL* curl = curl_;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Redirects are not followed: the Authorization header must reach only the configured host.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "sensor-misp-sync");
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  ctl::SetTransportOptions(
      curl, {.connect_timeout_ms = static_cast<long>(options_.connect_timeout.count()),
             .total_timeout_ms = static_cast<long>(options_.total_timeout.count()),
             .verify_tls = options_.verify_tls,
             .ca_file = &options_.ca_file,
             .abort = abort_,
             .error_buffer = error});

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    const std::string detail =
        absl::StrCat(request.method, " ", request.url,
                     " failed: ", error[0] != '\0' ? error : curl_easy_strerror(code));
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(detail);
      case CURLE_ABORTED_BY_CALLBACK:
        return absl::CancelledError(detail);
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
        // A retry would fail the same way, so this is final.
        return absl::FailedPreconditionError(absl::StrCat(
            detail,
            "; check the host name in the URL, or give the CA that signed the MISP server's "
            "certificate with --misp-ca"));
      case CURLE_WRITE_ERROR:
        if (state.too_large) {
          return absl::ResourceExhaustedError(absl::StrCat(detail, " (response larger than ",
                                                           options_.max_response_bytes, " bytes)"));
        }
        return absl::UnavailableError(detail);
      default:
        return absl::UnavailableError(detail);
    }
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace sensor::misp

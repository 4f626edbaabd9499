// Transfer settings that the sensor's HTTP clients (MISP and Elasticsearch) share.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <string>

namespace sensor::ctl {

// Initialises libcurl once per process, before the first handle is created.
void InitCurlOnce();

// Settings of one transfer that do not depend on the request.
struct CurlTransport {
  long connect_timeout_ms = 0;
  long total_timeout_ms = 0;
  bool verify_tls = true;
  const std::string* ca_file = nullptr;  // Empty or null: the system's CA store.
  // Polled while the transfer runs; true aborts it with CURLE_ABORTED_BY_CALLBACK.
  const std::atomic<bool>* abort = nullptr;
  char* error_buffer = nullptr;  // CURL_ERROR_SIZE bytes for libcurl's message.
};

// Applies the timeouts, TLS verification, CA file, abort flag and error buffer of
// `transport` to `curl`. Also accepts any content encoding libcurl can decode.
void SetTransportOptions(CURL* curl, const CurlTransport& transport);

}  // namespace sensor::ctl

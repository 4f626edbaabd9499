#include "ctrlplane/curl_transport.h"

#include <mutex>

namespace sensor::ctl {
namespace {

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort != nullptr && abort->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void SetTransportOptions(CURL* curl, const CurlTransport& transport) {
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // Any encoding libcurl can decode.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, transport.error_buffer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, transport.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, transport.total_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, transport.abort);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, transport.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, transport.verify_tls ? 2L : 0L);
  if (transport.ca_file != nullptr && !transport.ca_file->empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, transport.ca_file->c_str());
  }
}

}  // namespace sensor::ctl

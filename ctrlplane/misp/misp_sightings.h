// Sightings back to MISP: for each alert whose attribute came from a MISP instance read
// with the REST API, the sensor reports to that instance that the attribute was seen
// (POST /sightings/add with the attribute's uuid and type 0, "sighting").
//
// SightingQueue implements the policy without threads or I/O: deduplication of an attribute
// within a window, a rate limit per minute and batching. MispSightingsSink is the alert
// sink that feeds it from the control thread and sends its batches on a thread of its
// own, so no worker and no control-loop pass waits for MISP.
//
// MISP's /sightings/add takes one attribute uuid per request (SightingsController::add
// reads one "uuid"; a "values" list would sight every attribute with those values), so a
// batch is sent as consecutive requests on one connection. The API key goes only into the
// Authorization header; no message, log line or statistic contains it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/log.h"
#include "ctrlplane/misp/misp_http.h"
#include "ctrlplane/sinks/alert_sink.h"

namespace sensor::misp {

struct Sighting {
  std::string instance;        // Base URL of the MISP instance the attribute came from.
  std::string attribute_uuid;  // Sent as "uuid".
  int64_t timestamp = 0;       // Unix seconds of the matching packet, sent as "timestamp".
};

struct SightingQueueOptions {
  uint32_t batch_size = 100;                    // Sightings per batch at most.
  std::chrono::milliseconds flush_interval{5000};  // Oldest queued sighting waits at most this.
  uint32_t rate_per_minute = 600;               // Sightings admitted per minute; 0: no limit.
  std::chrono::seconds dedup_window{3600};      // One sighting per attribute; 0: off.
  size_t max_queued = 10000;                    // Queued beyond it are dropped.
};

enum class SightingAdmission { kQueued, kDuplicate, kRateLimited, kQueueFull };

// Not thread-safe; MispSightingsSink guards it with its mutex.
class SightingQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SightingQueue(SightingQueueOptions options) : options_(options) {}

  // Deduplicates by instance and attribute uuid, then applies the rate limit (a sliding
  // window of 60 s) and the queue bound. A duplicate does not use up the rate limit.
  SightingAdmission Add(Sighting sighting, Clock::time_point now);

  // True when a whole batch is queued, or the oldest queued sighting has waited the
  // flush interval.
  bool BatchReady(Clock::time_point now) const;
  // When BatchReady() becomes true without further Add() calls; Clock::time_point::max()
  // when the queue is empty.
  Clock::time_point NextFlush() const;
  // Removes and returns up to batch_size sightings, oldest first.
  std::vector<Sighting> TakeBatch();

  size_t size() const { return queued_.size(); }

 private:
  struct Queued {
    Sighting sighting;
    Clock::time_point added;
  };
  void ExpireDedup(Clock::time_point now);

  SightingQueueOptions options_;
  std::deque<Queued> queued_;
  std::deque<Clock::time_point> admitted_;  // Admission times within the last minute.
  absl::flat_hash_map<std::string, Clock::time_point> last_seen_;  // instance|uuid
  std::deque<std::pair<Clock::time_point, std::string>> dedup_order_;
};

struct SightingsStats {
  uint64_t sent = 0;                // Accepted by MISP.
  uint64_t failed = 0;              // Rejected by MISP, or not delivered after the retries.
  uint64_t dropped_rate = 0;        // Over the rate limit.
  uint64_t dropped_duplicate = 0;   // The attribute was sighted within the dedup window.
  uint64_t dropped_queue_full = 0;  // The queue was full.
  uint64_t dropped_at_exit = 0;     // Still queued when the drain timeout ended.
  uint64_t not_rest_source = 0;     // Alerts of attributes from files or feeds.
  uint64_t invalid_alerts = 0;      // Alert documents without an attribute uuid or source.
  uint64_t requests = 0;            // HTTP requests, retries included.
  uint64_t queued = 0;              // Waiting now.
  std::string last_error;           // One line; empty until a sighting fails.
};

struct SightingsSinkOptions {
  std::vector<std::string> instances;  // --misp-rest base URLs; others are not sighted.
  std::string source = "sensor";       // The sightings' "source" field.
  SightingQueueOptions queue;
  HttpOptions http;                    // Retries with backoff for timeouts, 429 and 5xx.
  std::string key_file;                // Named in the message of a 401 or 403.
};

class MispSightingsSink final : public ctl::AlertSink {
 public:
  // Starts the sender thread. `api_key` is the key --misp-key-file holds.
  static absl::StatusOr<std::unique_ptr<MispSightingsSink>> Create(SightingsSinkOptions options,
                                                                    std::string api_key);
  ~MispSightingsSink() override;  // Stops the sender at once; call Drain() first.

  std::string_view name() const override { return "misp-sightings"; }
  // Queues a sighting for the alert's attribute. Never fails: documents that cannot be
  // sighted, and sightings that the queue does not admit, are counted.
  absl::Status Write(std::string_view document) override;
  // Sends what is queued without waiting for the flush interval.
  absl::Status Flush() override;

  // Sends what is queued, for at most `timeout`, then stops the sender; what is left is
  // counted as dropped_at_exit. A timeout of 0 stops the sender without sending.
  void Drain(std::chrono::milliseconds timeout);

  SightingsStats stats() const;

 private:
  MispSightingsSink(SightingsSinkOptions options, std::string api_key);
  void Run();
  void SendBatch(const std::vector<Sighting>& batch);
  // Sends one sighting. OK when MISP accepted it. Unavailable, DeadlineExceeded or
  // Cancelled when MISP cannot be reached or kept failing, so the rest of the batch is not
  // tried; other codes for a rejection of this sighting.
  absl::Status SendOne(const Sighting& sighting);
  void RecordFailure(const absl::Status& status, uint64_t count);

  SightingsSinkOptions options_;
  std::string api_key_;
  absl::flat_hash_set<std::string> instances_;
  std::unique_ptr<MispHttpClient> http_;  // Sender thread only.

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  SightingQueue queue_;
  SightingsStats stats_;
  bool flush_requested_ = false;
  bool sending_ = false;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};
  ctl::RateLimitedLog error_log_{5, std::chrono::seconds(60)};
  std::thread sender_;
};

// The JSON body of one /sightings/add request.
std::string SightingBody(const Sighting& sighting, std::string_view source);

// The URL of /sightings/add on the instance at `base_url`.
std::string SightingsAddUrl(std::string_view base_url);

}  // namespace sensor::misp

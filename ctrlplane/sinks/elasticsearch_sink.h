// Alert sink that indexes alerts into Elasticsearch through the _bulk API, by way of an
// on-disk spool so that no alert is lost while the cluster is slow, down or rejecting.
//
// Write() appends the document to the spool and returns. A sender thread owned by the
// sink takes batches from the spool and posts them. A request can take seconds (a slow
// cluster, a TLS handshake, a gzip of a large batch) while the control loop must keep
// draining worker rings, so a thread was chosen over a non-blocking curl multi handle
// polled from the control loop. The thread also keeps sending during Drain(), after the
// dataplane has stopped. The control thread never waits for the network, only for the
// spool's write(2) (and fsync under the interval policy).
//
// Delivery: every action is a `create` with _id = the document's event.id, so a retry of
// a batch that Elasticsearch stored but did not acknowledge (timeout, crash) returns 409
// for those items, which counts as delivered, and never stores a second copy. NOTE: in
// a data stream, _id is unique per backing index only, so a retry across a rollover
// can store a second copy. Per item:
//   2xx, 409          acknowledged: the record leaves the spool;
//   429, 5xx          kept and retried after a backoff;
//   anything else     written to the dead-letter NDJSON file with status, error type and
//                     reason, counted, then acknowledged.
// A failed request (refused connection, timeout, TLS error, an HTTP status other than 2xx
// and 413, a body that is not a _bulk response) keeps the whole batch. Retries wait an exponential
// backoff with jitter: a random delay between half and all of min(backoff_max,
// backoff_initial * 2^failures). 413 (request too large) halves the batch size.
//
// Batching: a request is sent when batch_documents or batch_bytes are pending, or
// flush_interval after the previous request, whichever comes first.
//
// Write(), Flush() and Drain() are called from the control thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "ctrlplane/log.h"
#include "ctrlplane/sinks/alert_sink.h"
#include "ctrlplane/sinks/elasticsearch_client.h"
#include "ctrlplane/sinks/spool.h"

namespace sensor::ctl {

struct ElasticsearchSinkOptions {
  ElasticsearchConnectionOptions connection;
  // Index, alias or data stream name; %Y, %m, %d and %H come from the alert's @timestamp.
  std::string index = "sensor-alerts-%Y.%m.%d";
  bool gzip = true;  // Content-Encoding: gzip on request bodies.
  size_t batch_documents = 500;
  size_t batch_bytes = 5u << 20;  // Uncompressed document bytes per request.
  std::chrono::milliseconds flush_interval{1'000};
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{30'000};
  std::string dead_letter_path;  // NDJSON file for documents Elasticsearch rejects.
  SpoolOptions spool;
};

struct ElasticsearchSinkStats {
  uint64_t queued = 0;              // Documents this process appended to the spool.
  uint64_t created = 0;             // Items with status 2xx.
  uint64_t already_present = 0;     // Items with status 409: stored by an earlier attempt.
  uint64_t retried = 0;             // Document attempts to repeat (item 429/5xx, failed request).
  uint64_t dead_lettered = 0;       // Documents rejected by Elasticsearch, in the dead-letter file.
  uint64_t dead_letter_errors = 0;  // Failed writes to the dead-letter file (kept in spool).
  uint64_t rejected_spool_full = 0;
  uint64_t rejected_spool_write_failed = 0;  // Disk full or I/O error; still in the NDJSON file.
  uint64_t requests = 0;
  uint64_t request_failures = 0;  // Transport errors and non-2xx responses.
  uint64_t bytes_sent = 0;        // Request bodies as sent (after gzip).
  uint64_t recovered = 0;         // Documents found in the spool at start, from earlier runs.
  uint64_t spooled = 0;           // Documents in the spool now, not yet delivered.
  uint64_t spool_bytes = 0;       // Size of the spool's segment files.
  uint64_t spool_corrupt_tails = 0;
  uint64_t spool_corrupt_bytes = 0;
};

class ElasticsearchSink : public AlertSink {
 public:
  // Validates the options, reads the credentials, opens the spool and starts the sender,
  // which begins with what earlier runs left in the spool.
  static absl::StatusOr<std::unique_ptr<ElasticsearchSink>> Open(
      const ElasticsearchSinkOptions& options);
  // Stops the sender, aborting a request in progress; pending documents stay spooled.
  ~ElasticsearchSink() override;

  std::string_view name() const override { return "elasticsearch"; }
  // Spools the document. Fails, without spooling it, when the spool is full or cannot
  // be written.
  absl::Status Write(std::string_view document) override;
  // Ends a batch: syncs the spool per its fsync policy and wakes the sender to send now.
  absl::Status Flush() override;

  // Sends until the spool is empty or `timeout` has passed, then stops the sender.
  // Returns the number of documents left in the spool for the next run.
  uint64_t Drain(std::chrono::milliseconds timeout);

  ElasticsearchSinkStats stats() const;
  const ElasticsearchSinkOptions& options() const { return options_; }

 private:
  struct Counters {
    std::atomic<uint64_t> queued{0};
    std::atomic<uint64_t> created{0};
    std::atomic<uint64_t> already_present{0};
    std::atomic<uint64_t> retried{0};
    std::atomic<uint64_t> dead_lettered{0};
    std::atomic<uint64_t> dead_letter_errors{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> request_failures{0};
    std::atomic<uint64_t> bytes_sent{0};
  };
  enum class BatchResult { kDone, kBackOff };

  ElasticsearchSink(const ElasticsearchSinkOptions& options, std::unique_ptr<Spool> spool,
                    std::unique_ptr<ElasticsearchClient> client);
  void Run();
  bool SendDue(std::chrono::steady_clock::time_point now) const;
  BatchResult SendBatch();
  BatchResult OnRequestFailed(std::string_view error, size_t documents);
  // Appends a rejected document to the dead-letter file; false if that failed.
  bool WriteDeadLetter(std::string_view document, std::string_view index, std::string_view id,
                       int status, std::string_view error_type, std::string_view error_reason);
  std::chrono::milliseconds NextBackoff();
  void Stop();

  ElasticsearchSinkOptions options_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<ElasticsearchClient> client_;
  Counters counters_;

  // Sender state, guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;      // Sender: new work, flush, drain or stop.
  std::condition_variable progress_;  // Drain(): a batch finished.
  bool stop_ = false;
  bool flush_requested_ = false;
  bool draining_ = false;
  std::chrono::steady_clock::time_point next_send_;  // Time-based batching.
  std::chrono::steady_clock::time_point retry_at_;   // End of the current backoff.
  std::atomic<bool> abort_{false};                   // Aborts the request in progress.
  std::thread sender_;

  // Sender thread only.
  uint32_t consecutive_failures_ = 0;
  size_t batch_limit_ = 0;  // batch_documents, halved after a 413.
  int dead_letter_fd_ = -1;
  std::mt19937_64 random_;
  RateLimitedLog failure_log_{3, std::chrono::seconds(30)};
};

}  // namespace sensor::ctl

#include "ctrlplane/sinks/elasticsearch_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/alert_document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::ctl {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t UnixNanosNow() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The start of a response body for a log line, without control characters.
std::string BodyExcerpt(std::string_view body) {
  constexpr size_t kMaxShown = 300;
  std::string excerpt(body.substr(0, kMaxShown));
  for (char& c : excerpt) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return excerpt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ElasticsearchSink>> ElasticsearchSink::Open(
    const ElasticsearchSinkOptions& options) {
  if (absl::Status status = ValidateIndexPattern(options.index); !status.ok()) return status;
  if (options.batch_documents == 0 || options.batch_bytes == 0) {
    return absl::InvalidArgumentError("Elasticsearch batch sizes must be at least 1");
  }
  if (options.backoff_initial.count() <= 0 || options.backoff_max < options.backoff_initial) {
    return absl::InvalidArgumentError(
        "the Elasticsearch backoff cap must be at least the initial backoff, which must be "
        "positive");
  }
  if (options.dead_letter_path.empty()) {
    return absl::InvalidArgumentError("the Elasticsearch dead-letter file name is empty");
  }
  absl::StatusOr<std::unique_ptr<ElasticsearchClient>> client =
      ElasticsearchClient::Create(options.connection);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(options.spool);
  if (!spool.ok()) return spool.status();

  std::unique_ptr<ElasticsearchSink> sink(
      new ElasticsearchSink(options, std::move(*spool), std::move(*client)));
  const SpoolStats spool_stats = sink->spool_->stats();
  LogInfo("elasticsearch",
          "event=sink_started url={} index={} spool={} recovered={} spool_bytes={}",
          sink->client_->base_url(), options.index, options.spool.directory, spool_stats.recovered,
          spool_stats.disk_bytes);
  sink->sender_ = std::thread([raw = sink.get()] { raw->Run(); });
  return sink;
}

ElasticsearchSink::ElasticsearchSink(const ElasticsearchSinkOptions& options,
                                     std::unique_ptr<Spool> spool,
                                     std::unique_ptr<ElasticsearchClient> client)
    : options_(options),
      spool_(std::move(spool)),
      client_(std::move(client)),
      next_send_(Clock::now()),
      retry_at_(Clock::now()),
      batch_limit_(options.batch_documents),
      random_(std::random_device{}()) {
  client_->set_abort_flag(&abort_);
}

ElasticsearchSink::~ElasticsearchSink() {
  Stop();
  if (dead_letter_fd_ >= 0) close(dead_letter_fd_);
}

void ElasticsearchSink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  abort_.store(true, std::memory_order_relaxed);
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
}

absl::Status ElasticsearchSink::Write(std::string_view document) {
  if (absl::Status status = spool_->Append(document); !status.ok()) return status;
  counters_.queued.fetch_add(1, std::memory_order_relaxed);
  if (spool_->pending_records() >= options_.batch_documents) wake_.notify_one();
  return absl::OkStatus();
}

absl::Status ElasticsearchSink::Flush() {
  absl::Status status = spool_->Sync();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_requested_ = true;
  }
  wake_.notify_one();
  return status;
}

uint64_t ElasticsearchSink::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    draining_ = true;
    wake_.notify_one();
    while (spool_->pending_records() > 0 && !stop_ && Clock::now() < deadline) {
      progress_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)));
    }
  }
  Stop();
  const uint64_t left = spool_->pending_records();
  if (left > 0) {
    LogWarn("elasticsearch",
            "event=drain_incomplete spooled={} spool={} "
            "note=\"the next run sends them first\"",
            left, options_.spool.directory);
  }
  return left;
}

bool ElasticsearchSink::SendDue(Clock::time_point now) const {
  const SpoolStats spool = spool_->stats();
  if (spool.pending_records == 0) return false;
  return draining_ || flush_requested_ || now >= next_send_ ||
         spool.pending_records >= batch_limit_ || spool.pending_bytes >= options_.batch_bytes;
}

void ElasticsearchSink::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    const auto now = Clock::now();
    if (now < retry_at_) {
      wake_.wait_until(lock, retry_at_);
      continue;
    }
    if (!SendDue(now)) {
      // Wake for the time-based batch; Write(), Flush(), Drain() and Stop() wake earlier.
      wake_.wait_until(lock, next_send_ > now ? next_send_ : now + options_.flush_interval);
      continue;
    }
    flush_requested_ = false;
    lock.unlock();
    const BatchResult result = SendBatch();
    lock.lock();
    next_send_ = Clock::now() + options_.flush_interval;
    if (result == BatchResult::kBackOff) {
      retry_at_ = Clock::now() + NextBackoff();
    } else {
      if (consecutive_failures_ > 0) {
        LogInfo("elasticsearch", "event=delivery_resumed failures_before={}",
                consecutive_failures_);
      }
      consecutive_failures_ = 0;
    }
    progress_.notify_all();
  }
  progress_.notify_all();
}

std::chrono::milliseconds ElasticsearchSink::NextBackoff() {
  const uint32_t exponent = std::min<uint32_t>(consecutive_failures_, 30);
  ++consecutive_failures_;
  const int64_t initial = options_.backoff_initial.count();
  const int64_t cap = options_.backoff_max.count();
  const int64_t ceiling = std::min<int64_t>(cap, initial << std::min<uint32_t>(exponent, 20));
  std::uniform_int_distribution<int64_t> jitter(ceiling / 2, ceiling);
  return std::chrono::milliseconds(jitter(random_));
}

ElasticsearchSink::BatchResult ElasticsearchSink::OnRequestFailed(std::string_view error,
                                                                  size_t documents) {
  counters_.request_failures.fetch_add(1, std::memory_order_relaxed);
  counters_.retried.fetch_add(documents, std::memory_order_relaxed);
  uint64_t suppressed = 0;
  if (failure_log_.Allow(suppressed)) {
    LogWarn("elasticsearch",
            "event=request_failed documents={} consecutive_failures={} error=\"{}\" "
            "repeats_not_logged={} note=\"kept in the spool, retried after a backoff\"",
            documents, consecutive_failures_ + 1, error, suppressed);
  }
  return BatchResult::kBackOff;
}

ElasticsearchSink::BatchResult ElasticsearchSink::SendBatch() {
  absl::StatusOr<std::vector<SpoolRecord>> records =
      spool_->Peek(batch_limit_, options_.batch_bytes);
  if (!records.ok()) return OnRequestFailed(ToStd(records.status().message()), 0);
  if (records->empty()) return BatchResult::kDone;
  // What is about to be sent is on disk first, under the batch fsync policy.
  if (absl::Status status = spool_->Sync(); !status.ok()) {
    LogWarn("elasticsearch", "event=spool_sync_failed error=\"{}\"", ToStd(status.message()));
  }

  struct Action {
    uint64_t sequence;
    std::string index;
    std::string id;
    const std::string* document;
  };
  std::vector<Action> actions;
  std::vector<uint64_t> acknowledged;
  std::string body;
  const int64_t now_s = static_cast<int64_t>(UnixNanosNow() / 1'000'000'000);
  for (const SpoolRecord& record : *records) {
    absl::StatusOr<DocumentKeys> keys = ExtractDocumentKeys(record.document);
    const std::string index =
        FormatIndexName(options_.index, keys.ok() ? keys->timestamp : "", now_s);
    if (!keys.ok()) {
      if (WriteDeadLetter(record.document, index, "", 0, "invalid_document",
                          ToStd(keys.status().message()))) {
        acknowledged.push_back(record.sequence);
      }
      continue;
    }
    AppendBulkCreate(body, index, keys->id, record.document);
    actions.push_back({record.sequence, index, keys->id, &record.document});
  }
  if (actions.empty()) {
    (void)spool_->Acknowledge(acknowledged);
    return BatchResult::kDone;
  }

  std::string compressed;
  if (options_.gzip) {
    absl::StatusOr<std::string> gzipped = GzipCompress(body);
    if (!gzipped.ok()) return OnRequestFailed(ToStd(gzipped.status().message()), actions.size());
    compressed = std::move(*gzipped);
  }
  const std::string& payload = options_.gzip ? compressed : body;
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes_sent.fetch_add(payload.size(), std::memory_order_relaxed);
  absl::StatusOr<HttpResponse> response =
      client_->Send("POST", "/_bulk", payload, "application/x-ndjson", options_.gzip);
  if (!response.ok()) return OnRequestFailed(ToStd(response.status().message()), actions.size());

  if (response->status == 413) {
    if (batch_limit_ > 1) {
      batch_limit_ = std::max<size_t>(1, actions.size() / 2);
      LogWarn("elasticsearch", "event=request_too_large documents={} new_batch_documents={}",
              actions.size(), batch_limit_);
      return BatchResult::kDone;
    }
    // A single document larger than the cluster accepts can never be delivered.
    const Action& action = actions.front();
    if (WriteDeadLetter(*action.document, action.index, action.id, 413, "request_entity_too_large",
                        "larger than http.max_content_length")) {
      acknowledged.push_back(action.sequence);
    }
    (void)spool_->Acknowledge(acknowledged);
    return BatchResult::kDone;
  }
  if (response->status < 200 || response->status >= 300) {
    return OnRequestFailed(absl::StrCat("HTTP ", response->status, " from ", client_->base_url(),
                                        "/_bulk: ", BodyExcerpt(response->body)),
                           actions.size());
  }
  absl::StatusOr<BulkResponse> bulk = ParseBulkResponse(response->body);
  if (!bulk.ok()) {
    return OnRequestFailed(absl::StrCat(bulk.status().message(), ": ", BodyExcerpt(response->body)),
                           actions.size());
  }
  if (bulk->items.size() != actions.size()) {
    return OnRequestFailed(absl::StrCat("_bulk response has ", bulk->items.size(), " items for ",
                                        actions.size(), " actions"),
                           actions.size());
  }

  bool retry = false;
  for (size_t i = 0; i < actions.size(); ++i) {
    const BulkItemResult& item = bulk->items[i];
    const Action& action = actions[i];
    switch (ClassifyBulkItem(item.status)) {
      case BulkItemOutcome::kCreated:
        counters_.created.fetch_add(1, std::memory_order_relaxed);
        acknowledged.push_back(action.sequence);
        break;
      case BulkItemOutcome::kAlreadyPresent:
        counters_.already_present.fetch_add(1, std::memory_order_relaxed);
        acknowledged.push_back(action.sequence);
        break;
      case BulkItemOutcome::kRetry:
        counters_.retried.fetch_add(1, std::memory_order_relaxed);
        retry = true;
        break;
      case BulkItemOutcome::kDeadLetter:
        if (WriteDeadLetter(*action.document, action.index, action.id, item.status, item.error_type,
                            item.error_reason)) {
          acknowledged.push_back(action.sequence);
        } else {
          retry = true;
        }
        break;
    }
  }
  if (absl::Status status = spool_->Acknowledge(acknowledged); !status.ok()) {
    LogWarn("elasticsearch", "event=spool_ack_failed error=\"{}\" note=\"{}\"",
            ToStd(status.message()), "after a restart these are sent again and return 409");
  }
  if (retry) {
    uint64_t suppressed = 0;
    if (failure_log_.Allow(suppressed)) {
      LogWarn("elasticsearch",
              "event=items_retried documents={} acknowledged={} repeats_not_logged={}",
              actions.size(), acknowledged.size(), suppressed);
    }
    return BatchResult::kBackOff;
  }
  return BatchResult::kDone;
}

bool ElasticsearchSink::WriteDeadLetter(std::string_view document, std::string_view index,
                                        std::string_view id, int status,
                                        std::string_view error_type,
                                        std::string_view error_reason) {
  if (dead_letter_fd_ < 0) {
    dead_letter_fd_ =
        open(options_.dead_letter_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (dead_letter_fd_ < 0) {
      counters_.dead_letter_errors.fetch_add(1, std::memory_order_relaxed);
      LogError("elasticsearch",
               "event=dead_letter_failed file={} error=\"{}\" note=\"document kept in the spool\"",
               options_.dead_letter_path, std::strerror(errno));
      return false;
    }
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  auto string = [&writer](std::string_view value) {
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  writer.StartObject();
  writer.Key("@timestamp");
  string(FormatTimestamp(UnixNanosNow()));
  writer.Key("elasticsearch");
  writer.StartObject();
  writer.Key("index");
  string(index);
  writer.Key("_id");
  string(id);
  writer.Key("status");
  writer.Int(status);
  writer.Key("error");
  writer.StartObject();
  writer.Key("type");
  string(error_type);
  writer.Key("reason");
  string(error_reason);
  writer.EndObject();
  writer.EndObject();
  writer.Key("document");
  if (status != 0) {
    writer.RawValue(document.data(), document.size(), rapidjson::kObjectType);
  } else {
    string(document);  // Not valid JSON, so kept as a string.
  }
  writer.EndObject();
  std::string line(buffer.GetString(), buffer.GetSize());
  line.push_back('\n');

  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = write(dead_letter_fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      counters_.dead_letter_errors.fetch_add(1, std::memory_order_relaxed);
      LogError("elasticsearch",
               "event=dead_letter_failed file={} error=\"{}\" note=\"document kept in the spool\"",
               options_.dead_letter_path, std::strerror(errno));
      if (written > 0 && ftruncate(dead_letter_fd_, lseek(dead_letter_fd_, 0, SEEK_END) -
                                                        static_cast<off_t>(written)) != 0) {
        LogError("elasticsearch", "event=dead_letter_truncate_failed file={}",
                 options_.dead_letter_path);
      }
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (options_.spool.fsync != FsyncPolicy::kNone) fdatasync(dead_letter_fd_);
  counters_.dead_lettered.fetch_add(1, std::memory_order_relaxed);
  LogWarn("elasticsearch", "event=document_rejected id={} index={} status={} error_type={} file={}",
          id, index, status, error_type, options_.dead_letter_path);
  return true;
}

ElasticsearchSinkStats ElasticsearchSink::stats() const {
  ElasticsearchSinkStats stats;
  stats.queued = counters_.queued.load(std::memory_order_relaxed);
  stats.created = counters_.created.load(std::memory_order_relaxed);
  stats.already_present = counters_.already_present.load(std::memory_order_relaxed);
  stats.retried = counters_.retried.load(std::memory_order_relaxed);
  stats.dead_lettered = counters_.dead_lettered.load(std::memory_order_relaxed);
  stats.dead_letter_errors = counters_.dead_letter_errors.load(std::memory_order_relaxed);
  stats.requests = counters_.requests.load(std::memory_order_relaxed);
  stats.request_failures = counters_.request_failures.load(std::memory_order_relaxed);
  stats.bytes_sent = counters_.bytes_sent.load(std::memory_order_relaxed);
  const SpoolStats spool = spool_->stats();
  stats.rejected_spool_full = spool.rejected_full;
  stats.rejected_spool_write_failed = spool.rejected_write_failed;
  stats.recovered = spool.recovered;
  stats.spooled = spool.pending_records;
  stats.spool_bytes = spool.disk_bytes;
  stats.spool_corrupt_tails = spool.corrupt_tails;
  stats.spool_corrupt_bytes = spool.corrupt_bytes;
  return stats;
}

}  // namespace sensor::ctl

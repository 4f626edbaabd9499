#include "ctrlplane/misp/misp_sightings.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_source_status.h"
#include "fmt/format.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::misp {
namespace {

constexpr auto kRateWindow = std::chrono::seconds(60);

std::string DedupKey(const Sighting& sighting) {
  return absl::StrCat(sighting.instance, "|", sighting.attribute_uuid);
}

// The member `name` of `object` if it is an object, else null.
const rapidjson::Value* Member(const rapidjson::Value* object, const char* name) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto found = object->FindMember(name);
  return found == object->MemberEnd() ? nullptr : &found->value;
}

std::string_view String(const rapidjson::Value* value) {
  if (value == nullptr || !value->IsString()) return {};
  return {value->GetString(), value->GetStringLength()};
}

// Unix seconds of an RFC 3339 UTC time as alerts write it ("2017-05-09T21:07:44.147422Z"),
// or 0 when it has another form.
int64_t UnixSeconds(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const std::string copy(text.substr(0, 19));
  if (copy.size() != 19 || std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month,
                                       &day, &hour, &minute, &second) != 6) {
    return 0;
  }
  tm fields{};
  fields.tm_year = year - 1900;
  fields.tm_mon = month - 1;
  fields.tm_mday = day;
  fields.tm_hour = hour;
  fields.tm_min = minute;
  fields.tm_sec = second;
  return static_cast<int64_t>(timegm(&fields));
}

std::string Trimmed(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

// MISP responds to a sighting it could not save with 200 and a "message" that starts so
// (SightingsController::add), or with "saved": false.
bool RejectedInBody(std::string_view body, std::string& reason) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return false;
  const std::string_view message = String(Member(&document, "message"));
  const std::string_view errors = String(Member(&document, "errors"));
  const rapidjson::Value* saved = Member(&document, "saved");
  if (message.starts_with("Could not add") || !errors.empty() ||
      (saved != nullptr && saved->IsFalse())) {
    reason = std::string(message.empty() ? errors : message);
    return true;
  }
  return false;
}

}  // namespace

SightingAdmission SightingQueue::Add(Sighting sighting, Clock::time_point now) {
  std::string key;
  if (options_.dedup_window.count() > 0) {
    ExpireDedup(now);
    key = DedupKey(sighting);
    if (last_seen_.contains(key)) return SightingAdmission::kDuplicate;
  }
  while (!admitted_.empty() && admitted_.front() + kRateWindow <= now) admitted_.pop_front();
  if (options_.rate_per_minute > 0 && admitted_.size() >= options_.rate_per_minute) {
    return SightingAdmission::kRateLimited;
  }
  if (queued_.size() >= options_.max_queued) return SightingAdmission::kQueueFull;
  if (options_.rate_per_minute > 0) admitted_.push_back(now);
  if (!key.empty()) {
    last_seen_[key] = now;
    dedup_order_.emplace_back(now, std::move(key));
  }
  queued_.push_back({std::move(sighting), now});
  return SightingAdmission::kQueued;
}

void SightingQueue::ExpireDedup(Clock::time_point now) {
  while (!dedup_order_.empty() && dedup_order_.front().first + options_.dedup_window <= now) {
    auto found = last_seen_.find(dedup_order_.front().second);
    if (found != last_seen_.end() && found->second == dedup_order_.front().first) {
      last_seen_.erase(found);
    }
    dedup_order_.pop_front();
  }
}

bool SightingQueue::BatchReady(Clock::time_point now) const {
  if (queued_.empty()) return false;
  return queued_.size() >= options_.batch_size || now >= NextFlush();
}

SightingQueue::Clock::time_point SightingQueue::NextFlush() const {
  if (queued_.empty()) return Clock::time_point::max();
  return queued_.front().added + options_.flush_interval;
}

std::vector<Sighting> SightingQueue::TakeBatch() {
  std::vector<Sighting> batch;
  const size_t count = std::min<size_t>(queued_.size(), options_.batch_size);
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(queued_.front().sighting));
    queued_.pop_front();
  }
  return batch;
}

std::string SightingBody(const Sighting& sighting, std::string_view source) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("uuid");
  writer.String(sighting.attribute_uuid.data(),
                static_cast<rapidjson::SizeType>(sighting.attribute_uuid.size()));
  // Type 0 is a sighting; 1 would be a false positive and 2 an expiration.
  writer.Key("type");
  writer.String("0");
  writer.Key("source");
  writer.String(source.data(), static_cast<rapidjson::SizeType>(source.size()));
  writer.Key("timestamp");
  writer.Int64(sighting.timestamp);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string SightingsAddUrl(std::string_view base_url) {
  return Trimmed(base_url) + "/sightings/add";
}

MispSightingsSink::MispSightingsSink(SightingsSinkOptions options, std::string api_key)
    : options_(std::move(options)), api_key_(std::move(api_key)), queue_(options_.queue) {
  for (const std::string& instance : options_.instances) instances_.insert(Trimmed(instance));
}

absl::StatusOr<std::unique_ptr<MispSightingsSink>> MispSightingsSink::Create(
    SightingsSinkOptions options, std::string api_key) {
  if (options.instances.empty()) {
    return absl::InvalidArgumentError("--misp-sightings needs a --misp-rest source");
  }
  if (api_key.empty()) {
    return absl::InvalidArgumentError("--misp-sightings needs the API key of --misp-key-file");
  }
  if (options.queue.batch_size == 0) {
    return absl::InvalidArgumentError("the sightings batch size must be at least 1");
  }
  std::unique_ptr<MispSightingsSink> sink(
      new MispSightingsSink(std::move(options), std::move(api_key)));
  absl::StatusOr<std::unique_ptr<MispHttpClient>> http =
      MispHttpClient::Create(sink->options_.http);
  if (!http.ok()) return http.status();
  sink->http_ = std::move(*http);
  sink->http_->set_abort_flag(&sink->abort_);
  sink->sender_ = std::thread([raw = sink.get()] { raw->Run(); });
  return sink;
}

MispSightingsSink::~MispSightingsSink() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  abort_.store(true);
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
}

absl::Status MispSightingsSink::Write(std::string_view document) {
  rapidjson::Document parsed;
  parsed.Parse(document.data(), document.size());
  const rapidjson::Value* root = parsed.HasParseError() ? nullptr : &parsed;
  // A suppression summary represents alerts that were held back, not a new sighting.
  if (String(Member(Member(root, "event"), "action")) == "suppressed-summary") {
    return absl::OkStatus();
  }

  const std::string_view uuid = String(Member(Member(Member(root, "misp"), "attribute"), "uuid"));
  const std::string_view feed = String(Member(Member(Member(root, "threat"), "feed"), "name"));
  std::lock_guard<std::mutex> lock(mutex_);
  if (uuid.empty() || feed.empty()) {
    ++stats_.invalid_alerts;
    return absl::OkStatus();
  }
  std::string instance = Trimmed(feed);
  if (!instances_.contains(instance)) {
    ++stats_.not_rest_source;
    return absl::OkStatus();
  }

  int64_t seen = UnixSeconds(String(Member(root, "@timestamp")));
  if (seen == 0) seen = static_cast<int64_t>(std::time(nullptr));
  Sighting sighting{std::move(instance), std::string(uuid), seen};
  switch (queue_.Add(std::move(sighting), SightingQueue::Clock::now())) {
    case SightingAdmission::kQueued:
      wake_.notify_one();
      break;
    case SightingAdmission::kDuplicate:
      ++stats_.dropped_duplicate;
      break;
    case SightingAdmission::kRateLimited:
      ++stats_.dropped_rate;
      break;
    case SightingAdmission::kQueueFull:
      ++stats_.dropped_queue_full;
      break;
  }
  return absl::OkStatus();
}

absl::Status MispSightingsSink::Flush() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_requested_ = true;
  }
  wake_.notify_one();
  return absl::OkStatus();
}

void MispSightingsSink::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  if (timeout.count() > 0) {
    flush_requested_ = true;
    wake_.notify_one();
    idle_.wait_until(lock, deadline, [this] { return queue_.size() == 0 && !sending_; });
  }
  stopping_ = true;
  lock.unlock();
  abort_.store(true);
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
  lock.lock();
  const size_t left = queue_.size();
  if (left > 0) {
    stats_.dropped_at_exit += left;
    while (queue_.size() > 0) (void)queue_.TakeBatch();
    ctl::LogWarn("misp", "{} sightings were not sent before the drain timeout", left);
  }
}

SightingsStats MispSightingsSink::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SightingsStats copy = stats_;
  copy.queued = queue_.size();
  return copy;
}

void MispSightingsSink::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const auto now = SightingQueue::Clock::now();
    const bool flush = flush_requested_ && queue_.size() > 0;
    if (!flush && !queue_.BatchReady(now)) {
      if (queue_.size() == 0) flush_requested_ = false;
      idle_.notify_all();
      wake_.wait_until(lock, std::min(queue_.NextFlush(), now + std::chrono::seconds(1)));
      continue;
    }
    std::vector<Sighting> batch = queue_.TakeBatch();
    sending_ = true;
    lock.unlock();
    SendBatch(batch);
    lock.lock();
    sending_ = false;
  }
  idle_.notify_all();
}

void MispSightingsSink::SendBatch(const std::vector<Sighting>& batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const absl::Status status = SendOne(batch[i]);
    std::lock_guard<std::mutex> lock(mutex_);
    if (status.ok()) {
      ++stats_.sent;
      continue;
    }
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
        absl::IsCancelled(status)) {
      // MISP is down or overloaded after the retries: the rest of the batch would only
      // wait through the same retries, so it fails with this sighting.
      RecordFailure(status, batch.size() - i);
      return;
    }
    RecordFailure(status, 1);
  }
}

absl::Status MispSightingsSink::SendOne(const Sighting& sighting) {
  HttpRequest request;
  request.method = "POST";
  request.url = SightingsAddUrl(sighting.instance);
  request.body = SightingBody(sighting, options_.source);
  request.secret_headers.push_back(absl::StrCat("Authorization: ", api_key_));
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    // The client's message names the method and URL already.
    return absl::Status(response.status().code(),
                        Redact(fmt::format("{} (attribute {})", ToStd(response.status().message()),
                                           sighting.attribute_uuid),
                               api_key_));
  }

  const std::string where = fmt::format("POST {} (attribute {})", request.url,
                                        sighting.attribute_uuid);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.requests += static_cast<uint64_t>(response->attempts);
  }
  std::string reason;
  if (response->status == 401 || response->status == 403) {
    return absl::PermissionDeniedError(Redact(
        fmt::format("{}: HTTP {}; check the key in {} and that its user may add sightings",
                    where, response->status, options_.key_file),
        api_key_));
  }
  if (IsRetryableStatus(response->status)) {
    return absl::UnavailableError(fmt::format("{}: HTTP {} ({} attempts)", where,
                                              response->status, response->attempts));
  }
  if (response->status < 200 || response->status >= 300) {
    return absl::InvalidArgumentError(fmt::format("{}: HTTP {}", where, response->status));
  }
  if (RejectedInBody(response->body, reason)) {
    return absl::InvalidArgumentError(
        Redact(fmt::format("{}: rejected: {}", where, OneLine(reason.substr(0, 160))), api_key_));
  }
  return absl::OkStatus();
}

void MispSightingsSink::RecordFailure(const absl::Status& status, uint64_t count) {
  stats_.failed += count;
  stats_.last_error = OneLine(ToStd(status.message()));
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    ctl::LogWarn("misp", "{} sighting(s) not sent: {}{}", count, stats_.last_error,
                 suppressed > 0 ? fmt::format(" ({} similar messages suppressed)", suppressed)
                                : "");
  }
}

}  // namespace sensor::misp

// Unit tests of sightings to MISP without a network: the queue's deduplication, rate
// limit and batching on a fake clock, the request body, what the sink accepts from alert
// documents, and the per-source sync status board.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "ctrlplane/misp/misp_sightings.h"
#include "ctrlplane/misp/misp_source_status.h"
#include "rapidjson/document.h"

namespace sensor::misp {
namespace {

using Clock = SightingQueue::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kInstance[] = "https://misp.example.org";

Sighting MakeSighting(std::string uuid, std::string instance = kInstance) {
  return {std::move(instance), std::move(uuid), 1700000000};
}

SightingQueueOptions QueueOptions() {
  SightingQueueOptions options;
  options.batch_size = 3;
  options.flush_interval = milliseconds(5000);
  options.rate_per_minute = 0;
  options.dedup_window = seconds(0);
  options.max_queued = 100;
  return options;
}

TEST(SightingQueue, FullBatchIsReadyAtOnce) {
  SightingQueue queue(QueueOptions());
  const Clock::time_point start{};
  EXPECT_EQ(queue.Add(MakeSighting("a"), start), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("b"), start), SightingAdmission::kQueued);
  EXPECT_FALSE(queue.BatchReady(start));
  EXPECT_EQ(queue.Add(MakeSighting("c"), start), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("d"), start), SightingAdmission::kQueued);
  EXPECT_TRUE(queue.BatchReady(start));

  const std::vector<Sighting> batch = queue.TakeBatch();
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].attribute_uuid, "a");
  EXPECT_EQ(batch[2].attribute_uuid, "c");
  EXPECT_EQ(queue.size(), 1u);
}

TEST(SightingQueue, PartialBatchWaitsForFlushInterval) {
  SightingQueue queue(QueueOptions());
  const Clock::time_point start{};
  EXPECT_EQ(queue.NextFlush(), Clock::time_point::max());
  queue.Add(MakeSighting("a"), start);
  queue.Add(MakeSighting("b"), start + seconds(2));
  EXPECT_EQ(queue.NextFlush(), start + seconds(5));
  EXPECT_FALSE(queue.BatchReady(start + milliseconds(4999)));
  EXPECT_TRUE(queue.BatchReady(start + seconds(5)));
  EXPECT_EQ(queue.TakeBatch().size(), 2u);
  EXPECT_FALSE(queue.BatchReady(start + seconds(60)));
}

TEST(SightingQueue, DedupWindowDropsRepeats) {
  SightingQueueOptions options = QueueOptions();
  options.dedup_window = seconds(60);
  SightingQueue queue(options);
  const Clock::time_point start{};
  EXPECT_EQ(queue.Add(MakeSighting("a"), start), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("a"), start + seconds(59)), SightingAdmission::kDuplicate);
  // The same uuid from another instance is another attribute.
  EXPECT_EQ(queue.Add(MakeSighting("a", "https://other.example.org"), start + seconds(1)),
            SightingAdmission::kQueued);
  // The window counts from the sighting that was queued, not from the repeats.
  EXPECT_EQ(queue.Add(MakeSighting("a"), start + seconds(60)), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("a"), start + seconds(61)), SightingAdmission::kDuplicate);
}

TEST(SightingQueue, RateLimitSlidesOverOneMinute) {
  SightingQueueOptions options = QueueOptions();
  options.rate_per_minute = 2;
  SightingQueue queue(options);
  const Clock::time_point start{};
  EXPECT_EQ(queue.Add(MakeSighting("a"), start), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("b"), start + seconds(30)), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("c"), start + seconds(59)), SightingAdmission::kRateLimited);
  // The first admission leaves the window after 60 s.
  EXPECT_EQ(queue.Add(MakeSighting("c"), start + seconds(60)), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("d"), start + seconds(61)), SightingAdmission::kRateLimited);
  EXPECT_EQ(queue.Add(MakeSighting("d"), start + seconds(90)), SightingAdmission::kQueued);
}

TEST(SightingQueue, DuplicateDoesNotUseTheRate) {
  SightingQueueOptions options = QueueOptions();
  options.rate_per_minute = 1;
  options.dedup_window = seconds(600);
  SightingQueue queue(options);
  const Clock::time_point start{};
  EXPECT_EQ(queue.Add(MakeSighting("a"), start), SightingAdmission::kQueued);
  EXPECT_EQ(queue.Add(MakeSighting("a"), start + seconds(61)), SightingAdmission::kDuplicate);
  EXPECT_EQ(queue.Add(MakeSighting("b"), start + seconds(61)), SightingAdmission::kQueued);
}

TEST(SightingQueue, RateLimitedSightingIsNotDeduplicatedLater) {
  SightingQueueOptions options = QueueOptions();
  options.rate_per_minute = 1;
  options.dedup_window = seconds(600);
  SightingQueue queue(options);
  const Clock::time_point start{};
  queue.Add(MakeSighting("a"), start);
  EXPECT_EQ(queue.Add(MakeSighting("b"), start), SightingAdmission::kRateLimited);
  EXPECT_EQ(queue.Add(MakeSighting("b"), start + seconds(60)), SightingAdmission::kQueued);
}

TEST(SightingQueue, BoundDropsWhenFull) {
  SightingQueueOptions options = QueueOptions();
  options.max_queued = 2;
  SightingQueue queue(options);
  const Clock::time_point start{};
  queue.Add(MakeSighting("a"), start);
  queue.Add(MakeSighting("b"), start);
  EXPECT_EQ(queue.Add(MakeSighting("c"), start), SightingAdmission::kQueueFull);
  EXPECT_EQ(queue.size(), 2u);
}

TEST(SightingBody, UsesAttributeUuidForm) {
  const std::string body = SightingBody(
      {kInstance, "5e5d71db-8d7c-430f-830d-6a9da964451a", 1494364064}, "lab \"sensor\"");
  rapidjson::Document document;
  document.Parse(body.c_str());
  ASSERT_FALSE(document.HasParseError()) << body;
  EXPECT_STREQ(document["uuid"].GetString(), "5e5d71db-8d7c-430f-830d-6a9da964451a");
  EXPECT_STREQ(document["type"].GetString(), "0");
  EXPECT_STREQ(document["source"].GetString(), "lab \"sensor\"");
  EXPECT_EQ(document["timestamp"].GetInt64(), 1494364064);
  EXPECT_FALSE(document.HasMember("values"));
}

TEST(SightingBody, AddUrlIgnoresTrailingSlash) {
  EXPECT_EQ(SightingsAddUrl("https://misp.example.org/"),
            "https://misp.example.org/sightings/add");
  EXPECT_EQ(SightingsAddUrl("https://misp.example.org/misp"),
            "https://misp.example.org/misp/sightings/add");
}

std::string AlertDocument(std::string_view feed, std::string_view uuid,
                          std::string_view action = "") {
  const std::string event =
      action.empty() ? "" : "\"event\":{\"action\":\"" + std::string(action) + "\"},";
  return "{\"@timestamp\":\"2017-05-09T21:07:44.147422Z\"," + event +
         "\"threat\":{\"feed\":{\"name\":\"" + std::string(feed) +
         "\"}},\"misp\":{\"attribute\":{\"uuid\":\"" + std::string(uuid) + "\"}}}";
}

class SightingsSink : public ::testing::Test {
 protected:
  std::unique_ptr<MispSightingsSink> Create() {
    SightingsSinkOptions options;
    // Port 1 on loopback: nothing is sent in these tests, because the flush interval is
    // long and Drain(0) stops the sender first.
    options.instances = {"http://127.0.0.1:1/"};
    options.queue.flush_interval = std::chrono::hours(1);
    options.queue.batch_size = 100;
    options.http.retries = 0;
    auto sink = MispSightingsSink::Create(options, "secret-key");
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }
};

TEST_F(SightingsSink, CountsWhatItCannotSight) {
  std::unique_ptr<MispSightingsSink> sink = Create();
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->Write(AlertDocument("http://127.0.0.1:1", "uuid-1")).ok());
  EXPECT_TRUE(sink->Write(AlertDocument("/var/lib/misp/event.json", "uuid-2")).ok());
  EXPECT_TRUE(sink->Write(AlertDocument("http://127.0.0.1:1", "")).ok());
  EXPECT_TRUE(sink->Write("not json").ok());
  EXPECT_TRUE(sink->Write(AlertDocument("http://127.0.0.1:1", "uuid-3", "suppressed-summary"))
                  .ok());
  EXPECT_TRUE(sink->Write(AlertDocument("http://127.0.0.1:1", "uuid-1")).ok());

  const SightingsStats before = sink->stats();
  EXPECT_EQ(before.queued, 1u);
  EXPECT_EQ(before.not_rest_source, 1u);
  EXPECT_EQ(before.invalid_alerts, 2u);
  EXPECT_EQ(before.dropped_duplicate, 1u);

  sink->Drain(std::chrono::milliseconds(0));
  const SightingsStats after = sink->stats();
  EXPECT_EQ(after.dropped_at_exit, 1u);
  EXPECT_EQ(after.sent, 0u);
  EXPECT_EQ(after.queued, 0u);
}

TEST(SightingsSinkCreate, NeedsInstanceAndKey) {
  SightingsSinkOptions options;
  EXPECT_FALSE(MispSightingsSink::Create(options, "key").ok());
  options.instances = {kInstance};
  EXPECT_FALSE(MispSightingsSink::Create(options, "").ok());
}

TEST(SourceStatusBoard, RecordsSuccessAndError) {
  SourceStatusBoard board;
  board.Reset({{.name = "a.json", .kind = "file"}, {.name = kInstance, .kind = "rest"}});
  const auto first = std::chrono::system_clock::time_point(seconds(1000));
  const auto second = std::chrono::system_clock::time_point(seconds(2000));
  board.Record(1, {.ok = true, .attributes = 71, .http_status = 200}, first);
  board.Record(1, {.ok = false, .error = "HTTP 500\nsecond line\n", .attributes = 71,
                   .http_status = 500},
               second);
  board.Record(7, {.ok = true}, second);  // Out of range: ignored.

  const std::vector<SourceStatus> status = board.Read();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].last_attempt.time_since_epoch().count(), 0);
  EXPECT_EQ(status[1].last_success, first);
  EXPECT_EQ(status[1].last_attempt, second);
  EXPECT_EQ(status[1].last_error, "HTTP 500; second line");
  EXPECT_EQ(status[1].http_status, 500);
  EXPECT_EQ(status[1].attributes, 71u);

  board.Record(1, {.ok = true, .attributes = 70, .http_status = 200}, second);
  EXPECT_EQ(board.Read()[1].last_error, "");
  EXPECT_EQ(board.Read()[1].last_success, second);
}

TEST(WithoutCredentials, RemovesUserInfoOnly) {
  EXPECT_EQ(WithoutCredentials("https://user:pw@misp.example.org/path"),
            "https://misp.example.org/path");
  EXPECT_EQ(WithoutCredentials("https://misp.example.org/a@b"), "https://misp.example.org/a@b");
  EXPECT_EQ(WithoutCredentials("/var/lib/misp/feed"), "/var/lib/misp/feed");
}

}  // namespace
}  // namespace sensor::misp

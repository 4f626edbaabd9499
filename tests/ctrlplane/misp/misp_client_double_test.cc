// MispSync against the MISP double (tools/doubles/misp_double.py) on 127.0.0.1: feed
// syncs with conditional requests, restSearch paging, incremental merges, retries,
// rejected responses, a wrong key and the snapshot fallback.
//
// Expected counts come from the MISP files with jq (commands in the comments).

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_client.h"
#include "ctrlplane/misp/misp_model.h"
#include "fmt/format.h"
#include "rapidjson/document.h"

extern char** environ;

namespace sensor::misp {
namespace {

namespace fs = std::filesystem;

// The key the double accepts. Tests check that no message repeats it.
constexpr std::string_view kKey = "Zq7sYk2vJ9mW4pXc8bRt3nLd6fHg1aQe5uVo0iKy";
constexpr std::string_view kWrongKey = "WrongKeyWrongKeyWrongKeyWrongKeyWrongKey";

// jq '[.Event | (.Attribute[]?, (.Object[]?.Attribute[]?)) | select(.to_ids==true)] | length'
//   over tests/data/misp/events/*.json and the five feed event files: 661.
constexpr size_t kToIdsAttributes = 661;
// The same without the select: 894.
constexpr size_t kAllAttributes = 894;
// jq '[.Event | (.Attribute[]?, (.Object[]?.Attribute[]?)) | .timestamp | tonumber] | max'
//   over the same files: 1763424000.
constexpr int64_t kMaxAttributeTimestamp = 1763424000;
// jq '[.Event.Attribute[]] | length' tests/data/misp/feed/*-*.json | paste -sd+ | bc: 215.
constexpr size_t kFeedAttributes = 215;

fs::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

std::string EnvironmentOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// A running misp_double.py process and its control port.
class MispDouble {
 public:
  explicit MispDouble(std::vector<std::string> extra = {}) {
    const std::string python = EnvironmentOr("PYTHON3", "/usr/bin/python3");
    const std::string script = EnvironmentOr(
        "MISP_DOUBLE", (fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() /
                        "tools" / "doubles" / "misp_double.py")
                           .string());
    std::vector<std::string> arguments = {
        python, script, "--key", std::string(kKey), "--data", (TestDataDir() / "misp").string()};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);

    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    if (posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
    port_ = ReadNumber("");
    control_port_ = ReadNumber("control ");
  }

  ~MispDouble() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }

  bool ok() const { return pid_ > 0 && port_ > 0 && control_port_ > 0; }
  std::string Url(std::string_view path = "") const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }

  // POSTs `body` to a control path; returns the HTTP status.
  long Control(std::string_view path, std::string_view body = "{}") {
    std::string response;
    return Request("POST", path, body, response);
  }

  // Every data request the double received, as JSON.
  rapidjson::Document Requests() {
    std::string response;
    Request("GET", "/requests", "", response);
    rapidjson::Document document;
    document.Parse(response.c_str());
    return document;
  }

 private:
  // Reads one line of the double's stdout, which must start with `prefix`, and returns
  // the number after it. The fd is read byte by byte, so no line is buffered away from
  // the next call.
  int ReadNumber(std::string_view prefix) {
    std::string line;
    while (stdout_fd_ >= 0) {
      pollfd descriptor{stdout_fd_, POLLIN, 0};
      char c = 0;
      if (poll(&descriptor, 1, 10'000) <= 0 || read(stdout_fd_, &c, 1) != 1) return 0;
      if (c == '\n') break;
      line.push_back(c);
    }
    if (!line.starts_with(prefix)) return 0;
    return std::atoi(line.c_str() + prefix.size());
  }

  long Request(std::string_view method, std::string_view path, std::string_view body,
               std::string& response) {
    CURL* curl = curl_easy_init();
    const std::string url = fmt::format("http://127.0.0.1:{}{}", control_port_, path);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    if (method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(curl);
    return status;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  int control_port_ = 0;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "misp-double-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string WriteKeyFile(const TempDir& directory, std::string_view key) {
  const std::string path = (directory.path() / "misp.key").string();
  std::ofstream(path) << key << "\n";
  chmod(path.c_str(), 0600);
  return path;
}

MispSyncOptions FastOptions() {
  MispSyncOptions options;
  options.http.backoff_initial = std::chrono::milliseconds(10);
  options.http.backoff_max = std::chrono::milliseconds(20);
  options.http.total_timeout = std::chrono::milliseconds(5000);
  options.filters.to_ids = true;
  return options;
}

std::unique_ptr<MispSync> MakeSync(MispSyncOptions options) {
  absl::StatusOr<std::unique_ptr<MispSync>> sync = MispSync::Create(std::move(options));
  EXPECT_TRUE(sync.ok()) << sync.status();
  return sync.ok() ? std::move(*sync) : nullptr;
}

const Attribute* FindAttribute(const LoadResult& result, std::string_view uuid) {
  for (const Attribute& attribute : result.attributes) {
    if (attribute.uuid == uuid) return &attribute;
  }
  return nullptr;
}

std::string MessageOf(const absl::Status& status) { return std::string(status.message()); }

// --- feed URLs ---

TEST(MispFeedSync, FetchesManifestThenEvents) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/")}};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);

  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->merged.events.size(), 5u);
  EXPECT_EQ(result->merged.attributes.size(), kFeedAttributes);
  ASSERT_EQ(result->sources.size(), 1u);
  EXPECT_TRUE(result->sources[0].changed);
  EXPECT_EQ(result->sources[0].fetched, 5u);
  for (const Event& event : result->merged.events) {
    EXPECT_EQ(event.source, double_server.Url("/feed/" + event.uuid + ".json"));
  }
  rapidjson::Document requests = double_server.Requests();
  ASSERT_EQ(requests.Size(), 6u);
  EXPECT_STREQ(requests[0]["path"].GetString(), "/feed/manifest.json");
  EXPECT_TRUE(requests[0]["if_none_match"].IsNull());
}

TEST(MispFeedSync, UnchangedManifestIsNotModified) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/manifest.json")}};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());
  double_server.Control("/requests/clear");

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->sources[0].changed);
  EXPECT_EQ(second->merged.attributes.size(), kFeedAttributes);
  rapidjson::Document requests = double_server.Requests();
  ASSERT_EQ(requests.Size(), 1u);
  EXPECT_STREQ(requests[0]["path"].GetString(), "/feed/manifest.json");
  ASSERT_TRUE(requests[0]["if_none_match"].IsString());
  ASSERT_TRUE(requests[0]["if_modified_since"].IsString());
}

TEST(MispFeedSync, FetchesOnlyChangedEvent) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/")}};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());
  ASSERT_EQ(
      double_server.Control("/feed/touch", R"({"uuid": "68f58844-4aa6-4e1c-8ee5-cfb58eb6665e"})"),
      200);
  double_server.Control("/requests/clear");

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->sources[0].changed);
  EXPECT_EQ(second->sources[0].fetched, 1u);
  EXPECT_EQ(second->merged.events.size(), 5u);
  EXPECT_EQ(second->merged.attributes.size(), kFeedAttributes);
  rapidjson::Document requests = double_server.Requests();
  ASSERT_EQ(requests.Size(), 2u);
  EXPECT_STREQ(requests[0]["path"].GetString(), "/feed/manifest.json");
  EXPECT_STREQ(requests[1]["path"].GetString(), "/feed/68f58844-4aa6-4e1c-8ee5-cfb58eb6665e.json");
  // The sensor had this event, so its old ETag went with the request.
  EXPECT_TRUE(requests[1]["if_none_match"].IsString());
}

TEST(MispFeedSync, TagFilterSelectsEvents) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/")}};
  options.filters.tags = {"tlp:clear"};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  // jq -r 'to_entries[] | select(.value.Tag | map(.name) | index("tlp:clear")) | .key'
  //   tests/data/misp/feed/manifest.json: three events.
  EXPECT_EQ(result->merged.events.size(), 3u);
  EXPECT_EQ(double_server.Requests().Size(), 4u);
}

TEST(MispFeedSync, TruncatedEventKeepsPreviousData) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/")}};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());
  double_server.Control("/feed/touch", R"({"uuid": "68f58844-4aa6-4e1c-8ee5-cfb58eb6665e"})");
  double_server.Control("/fault", R"({"mode": "truncated", "path": "/feed/68f58844"})");

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  const SourceReport& report = second->sources[0];
  EXPECT_TRUE(report.stale);
  EXPECT_TRUE(Contains(MessageOf(report.status),
                       double_server.Url("/feed/68f58844-4aa6-4e1c-8ee5-cfb58eb6665e.json")));
  EXPECT_TRUE(Contains(MessageOf(report.status), "truncated JSON"));
  EXPECT_EQ(second->merged.attributes.size(), kFeedAttributes);

  // Once the fault is gone, the changed event is fetched again.
  double_server.Control("/fault", R"({"mode": "none"})");
  absl::StatusOr<SyncResult> third = sync->Sync();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(third->sources[0].status.ok());
  EXPECT_EQ(third->sources[0].fetched, 1u);
}

TEST(MispFeedSync, MissingEventFileIsSkipped) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  ASSERT_EQ(
      double_server.Control("/feed/drop", R"({"uuid": "dad88707-beb8-4a14-94e2-5ffecf5a5f85"})"),
      200);
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kFeed, double_server.Url("/feed/")}};
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);

  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->sources[0].status.ok());
  EXPECT_EQ(result->merged.events.size(), 4u);
  // The dropped event has 6 attributes (jq '.Event.Attribute | length').
  EXPECT_EQ(result->merged.attributes.size(), kFeedAttributes - 6);
  ASSERT_EQ(result->merged.errors.size(), 1u);
  EXPECT_TRUE(Contains(result->merged.errors[0], "HTTP 404")) << result->merged.errors[0];
  EXPECT_TRUE(Contains(result->merged.errors[0], "dad88707-beb8-4a14-94e2-5ffecf5a5f85.json"));
}

// --- REST API ---

TEST(MispRestSync, PagesUntilShortPage) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  options.page_size = 100;
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);

  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->merged.attributes.size(), kToIdsAttributes);
  EXPECT_EQ(result->merged.events.size(), 8u);
  rapidjson::Document requests = double_server.Requests();
  // 661 attributes at 100 per page: six full pages and one of 61.
  ASSERT_EQ(requests.Size(), 7u);
  for (rapidjson::SizeType i = 0; i < requests.Size(); ++i) {
    const rapidjson::Value& request = requests[i];
    EXPECT_STREQ(request["method"].GetString(), "POST");
    EXPECT_STREQ(request["path"].GetString(), "/attributes/restSearch");
    EXPECT_TRUE(request["authorization_ok"].GetBool());
    EXPECT_STREQ(request["accept"].GetString(), "application/json");
    const rapidjson::Value& body = request["body"];
    EXPECT_EQ(body["page"].GetInt(), static_cast<int>(i) + 1);
    EXPECT_EQ(body["limit"].GetInt(), 100);
    EXPECT_EQ(body["timestamp"].GetInt64(), 0);
    EXPECT_EQ(body["to_ids"].GetInt(), 1);
    EXPECT_STREQ(body["returnFormat"].GetString(), "json");
  }
}

TEST(MispRestSync, IncludeNonIdsFetchesEverything) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.filters.to_ids.reset();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->merged.attributes.size(), kAllAttributes);
}

TEST(MispRestSync, IncrementalSyncMergesChanges) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  options.page_size = 250;
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());

  // Three of the five object attributes with the value 8.8.8.8 in the STIX test event:
  // jq '.Event.Object[].Attribute[] | select(.value=="8.8.8.8") | .uuid'.
  constexpr std::string_view kChanged = "5ac337df-3c54-413c-a748-02550a00020f";
  constexpr std::string_view kDeleted = "5ac47edc-0548-4a91-8beb-040d0a00020f";
  constexpr std::string_view kCleared = "5afacc53-a2cc-4f67-bf34-03c80a00020f";
  constexpr std::string_view kAdded = "0b7f3a55-9f0e-4d5c-8a53-6f6c2b1d9e01";
  ASSERT_EQ(double_server.Control("/attribute/modify",
                                  fmt::format(R"({{"uuid": "{}", "value": "8.8.4.4"}})", kChanged)),
            200);
  ASSERT_EQ(
      double_server.Control("/attribute/delete", fmt::format(R"({{"uuid": "{}"}})", kDeleted)),
      200);
  ASSERT_EQ(double_server.Control("/attribute/modify",
                                  fmt::format(R"({{"uuid": "{}", "to_ids": false}})", kCleared)),
            200);
  ASSERT_EQ(double_server.Control(
                "/attribute/add",
                fmt::format(R"({{"uuid": "{}", "event_uuid": "5abb8534-ba9c-48cd-bb63-02480a00020f",
                               "type": "ip-dst", "value": "203.0.113.9"}})",
                            kAdded)),
            200);
  double_server.Control("/requests/clear");

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  const LoadResult& merged = second->merged;
  EXPECT_EQ(merged.attributes.size(), kToIdsAttributes - 2 + 1);
  const Attribute* changed = FindAttribute(merged, kChanged);
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->value, "8.8.4.4");
  EXPECT_EQ(FindAttribute(merged, kDeleted), nullptr);
  EXPECT_EQ(FindAttribute(merged, kCleared), nullptr);
  const Attribute* added = FindAttribute(merged, kAdded);
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(merged.events[added->event_index].info, "STIX indicators test event");

  rapidjson::Document requests = double_server.Requests();
  ASSERT_EQ(requests.Size(), 1u);
  const rapidjson::Value& body = requests[0]["body"];
  EXPECT_EQ(body["timestamp"].GetInt64(), kMaxAttributeTimestamp);
  EXPECT_FALSE(body.HasMember("to_ids"));
  ASSERT_TRUE(body["deleted"].IsArray());
  EXPECT_EQ(body["deleted"].Size(), 2u);
}

TEST(MispRestSync, UnchangedIncrementalSyncIsNoChange) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  // The attributes of the last second seen come back, but they are the same.
  EXPECT_GT(second->sources[0].fetched, 0u);
  EXPECT_FALSE(second->sources[0].changed);
  EXPECT_EQ(second->merged.attributes.size(), kToIdsAttributes);
}

TEST(MispRestSync, RetriesServerError) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  double_server.Control("/fault", R"({"mode": "500", "count": 1})");
  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->merged.attributes.size(), kToIdsAttributes);
  EXPECT_EQ(result->sources[0].requests, 2u);
}

TEST(MispRestSync, PartialResponseRejectsWholeSync) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kKey);
  options.page_size = 100;
  options.full_sync_interval = std::chrono::seconds(0);  // Every sync fetches all pages.
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->Sync().ok());
  constexpr std::string_view kChanged = "5ac337df-3c54-413c-a748-02550a00020f";
  double_server.Control("/attribute/modify",
                        fmt::format(R"({{"uuid": "{}", "value": "8.8.4.4"}})", kChanged));
  double_server.Control("/fault", R"({"mode": "truncated", "after": 2, "count": 1})");

  absl::StatusOr<SyncResult> second = sync->Sync();
  ASSERT_TRUE(second.ok()) << second.status();
  const SourceReport& report = second->sources[0];
  EXPECT_TRUE(report.stale);
  EXPECT_EQ(report.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(MessageOf(report.status), "(page 3)"));
  EXPECT_TRUE(Contains(MessageOf(report.status), "truncated JSON"));
  EXPECT_TRUE(Contains(MessageOf(report.status), double_server.Url("/attributes/restSearch")));
  const Attribute* unchanged = FindAttribute(second->merged, kChanged);
  ASSERT_NE(unchanged, nullptr);
  EXPECT_EQ(unchanged->value, "8.8.8.8");
  EXPECT_EQ(second->merged.attributes.size(), kToIdsAttributes);
}

TEST(MispRestSync, EachFaultIsOneClearError) {
  struct Case {
    std::string fault;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"mode": "500"})", "HTTP 500: An Internal Error Has Occurred. (2 attempts)"},
      {R"({"mode": "html"})", "an HTML page, not JSON"},
      {R"({"mode": "truncated"})", "truncated JSON"},
      {R"({"mode": "shape"})", R"(expected {"response": {"Attribute": [...]}})"},
      {R"({"mode": "slow", "seconds": 3})", "timed out"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fault);
    MispDouble double_server;
    ASSERT_TRUE(double_server.ok());
    TempDir directory;
    MispSyncOptions options = FastOptions();
    options.sources = {{SourceKind::kRest, double_server.Url()}};
    options.api_key_file = WriteKeyFile(directory, kKey);
    options.http.retries = 1;
    options.http.total_timeout = std::chrono::milliseconds(700);
    std::unique_ptr<MispSync> sync = MakeSync(options);
    ASSERT_NE(sync, nullptr);
    ASSERT_EQ(double_server.Control("/fault", c.fault), 200);
    absl::StatusOr<SyncResult> result = sync->Sync();
    ASSERT_FALSE(result.ok());
    const std::string message = MessageOf(result.status());
    EXPECT_TRUE(Contains(message, c.expected)) << message;
    EXPECT_TRUE(Contains(message, double_server.Url("/attributes/restSearch"))) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_FALSE(Contains(message, kKey));
  }
}

TEST(MispRestSync, WrongKeyIsRejectedWithoutEchoingIt) {
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  options.api_key_file = WriteKeyFile(directory, kWrongKey);
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied);
  const std::string message = MessageOf(result.status());
  EXPECT_TRUE(Contains(message, "HTTP 403")) << message;
  EXPECT_TRUE(Contains(message, "Authentication failed")) << message;
  EXPECT_TRUE(Contains(message, options.api_key_file)) << message;
  EXPECT_FALSE(Contains(message, kWrongKey));
  EXPECT_FALSE(Contains(message, kKey));
  // A 403 is final: no retries.
  EXPECT_EQ(double_server.Requests().Size(), 1u);
}

TEST(MispRestSync, DownServerUsesSnapshot) {
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.api_key_file = WriteKeyFile(directory, kKey);
  options.state_dir = (directory.path() / "state").string();
  options.http.retries = 1;
  std::string url;
  {
    MispDouble double_server;
    ASSERT_TRUE(double_server.ok());
    url = double_server.Url();
    options.sources = {{SourceKind::kRest, url}};
    std::unique_ptr<MispSync> sync = MakeSync(options);
    ASSERT_NE(sync, nullptr);
    absl::StatusOr<SyncResult> first = sync->Sync();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(first->sources[0].snapshot_error.empty()) << first->sources[0].snapshot_error;
  }

  // The double has exited, so its port refuses connections.
  std::unique_ptr<MispSync> restarted = MakeSync(options);
  ASSERT_NE(restarted, nullptr);
  absl::StatusOr<SyncResult> result = restarted->Sync();
  ASSERT_TRUE(result.ok()) << result.status();

  const SourceReport& report = result->sources[0];
  EXPECT_FALSE(report.status.ok());
  EXPECT_FALSE(report.snapshot_path.empty());
  EXPECT_TRUE(report.snapshot_path.starts_with(options.state_dir));
  EXPECT_GE(report.snapshot_age_s, 0);
  EXPECT_LT(report.snapshot_age_s, 600);
  EXPECT_EQ(result->merged.attributes.size(), kToIdsAttributes);
  for (const Event& event : result->merged.events) EXPECT_EQ(event.source, url);

  std::ifstream snapshot(report.snapshot_path);
  const std::string text((std::istreambuf_iterator<char>(snapshot)),
                         std::istreambuf_iterator<char>());
  EXPECT_FALSE(Contains(text, kKey));
}

TEST(MispRestSync, DownServerWithoutSnapshotFails) {
  TempDir directory;
  MispSyncOptions options = FastOptions();
  options.api_key_file = WriteKeyFile(directory, kKey);
  options.state_dir = (directory.path() / "state").string();
  options.http.retries = 1;
  MispDouble double_server;
  ASSERT_TRUE(double_server.ok());
  options.sources = {{SourceKind::kRest, double_server.Url()}};
  ASSERT_EQ(double_server.Control("/down"), 200);
  std::unique_ptr<MispSync> sync = MakeSync(options);
  ASSERT_NE(sync, nullptr);
  absl::StatusOr<SyncResult> result = sync->Sync();
  ASSERT_FALSE(result.ok());
  const std::string message = MessageOf(result.status());
  EXPECT_TRUE(Contains(message, double_server.Url("/attributes/restSearch"))) << message;
  EXPECT_TRUE(Contains(message, "no snapshot")) << message;
}

}  // namespace
}  // namespace sensor::misp

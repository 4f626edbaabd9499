// Unit tests of MISP sync without a network: response checks, the merge of incremental
// restSearch pages by attribute uuid, the order of merged sources, snapshots, and the
// helpers for URLs, key files and backoff.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_client.h"
#include "ctrlplane/misp/misp_http.h"
#include "ctrlplane/misp/misp_loader.h"
#include "ctrlplane/misp/misp_model.h"
#include "ctrlplane/misp/misp_snapshot.h"
#include "ctrlplane/misp/misp_sync_state.h"
#include "fmt/format.h"
#include "rapidjson/document.h"

namespace sensor::misp {
namespace {

namespace fs = std::filesystem;

fs::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view MessageOf(const absl::Status& status) { return ToStd(status.message()); }

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "misp-sync-test-XXXXXX").string();
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

// One attribute of a restSearch page, with the fields MISP 2.4 returns.
struct PageAttribute {
  std::string uuid;
  std::string value;
  int64_t timestamp = 1700000000;
  bool to_ids = true;
  bool deleted = false;
  std::string event_uuid = "5abb8534-ba9c-48cd-bb63-02480a00020f";
  std::string event_info = "STIX indicators test event";
};

std::string PageJson(const std::vector<PageAttribute>& attributes) {
  std::string entries;
  for (const PageAttribute& a : attributes) {
    if (!entries.empty()) entries += ",";
    entries += fmt::format(
        R"({{"id":"1","event_id":"1255","object_id":"0","object_relation":null,)"
        R"("category":"Network activity","type":"ip-dst","to_ids":{},"uuid":"{}",)"
        R"("timestamp":"{}","distribution":"5","sharing_group_id":"0","comment":"",)"
        R"("deleted":{},"disable_correlation":false,"first_seen":null,"last_seen":null,)"
        R"("value":"{}","Event":{{"id":"1255","orgc_id":"1","org_id":"1",)"
        R"("date":"2018-03-28","threat_level_id":"1","info":"{}","published":true,)"
        R"("uuid":"{}","analysis":"2","timestamp":"1592393818","distribution":"3",)"
        R"("Tag":[{{"id":"1","name":"tlp:white","colour":"#ffffff"}}],)"
        R"("Orgc":{{"id":"1","name":"ORGNAME"}}}},)"
        R"("Tag":[{{"id":"7","name":"tlp:green","colour":"#33ff00"}},)"
        R"({{"id":"1","name":"tlp:white","colour":"#ffffff","inherited":1}}]}})",
        a.to_ids ? "true" : "false", a.uuid, a.timestamp, a.deleted ? "true" : "false", a.value,
        a.event_info, a.event_uuid);
  }
  return R"({"response": {"Attribute": [)" + entries + "]}}";
}

LoadResult Page(const std::vector<PageAttribute>& attributes) {
  absl::StatusOr<RestSearchPage> page =
      ParseRestSearchPage(PageJson(attributes), "application/json", "test page");
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? page->result : LoadResult();
}

const Attribute* FindAttribute(const LoadResult& result, std::string_view uuid) {
  for (const Attribute& attribute : result.attributes) {
    if (attribute.uuid == uuid) return &attribute;
  }
  return nullptr;
}

// --- restSearch responses ---

TEST(RestSearchPage, ReadsAttributesAndEventContext) {
  absl::StatusOr<RestSearchPage> page = ParseRestSearchPage(
      PageJson({{.uuid = "aaaaaaaa-0000-4000-8000-000000000001", .value = "8.8.8.8"},
                {.uuid = "aaaaaaaa-0000-4000-8000-000000000002", .value = "1.2.3.4"}}),
      "application/json", "page 1");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->entries, 2u);
  ASSERT_EQ(page->result.attributes.size(), 2u);
  ASSERT_EQ(page->result.events.size(), 1u);
  const Event& event = page->result.events[0];
  EXPECT_EQ(event.uuid, "5abb8534-ba9c-48cd-bb63-02480a00020f");
  EXPECT_EQ(event.id, "1255");
  EXPECT_EQ(event.org, "ORGNAME");
  EXPECT_EQ(event.threat_level_id, 1);
  EXPECT_EQ(event.tags, std::vector<std::string>{"tlp:white"});
  EXPECT_EQ(page->result.attributes[0].value, "8.8.8.8");
  EXPECT_EQ(page->result.attributes[0].timestamp, 1700000000);
}

TEST(RestSearchPage, DropsInheritedTagsWhenEventCarriesThem) {
  LoadResult result = Page({{.uuid = "aaaaaaaa-0000-4000-8000-000000000001", .value = "8.8.8.8"}});
  ASSERT_EQ(result.attributes.size(), 1u);
  // The page lists tlp:green on the attribute and tlp:white inherited from the event.
  EXPECT_EQ(result.attributes[0].tags, std::vector<std::string>{"tlp:green"});
}

TEST(RestSearchPage, KeepsInheritedTagsWithoutEventTags) {
  // Without includeContext the Event stub has no Tag list.
  const std::string body =
      R"({"response":{"Attribute":[{"uuid":"aaaaaaaa-0000-4000-8000-000000000001",)"
      R"("type":"ip-dst","value":"8.8.8.8","to_ids":true,"timestamp":"1",)"
      R"("Event":{"id":"1","uuid":"5abb8534-ba9c-48cd-bb63-02480a00020f","info":"x"},)"
      R"("Tag":[{"name":"tlp:white","inherited":1}]}]}})";
  absl::StatusOr<RestSearchPage> page = ParseRestSearchPage(body, "application/json", "p");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->result.attributes.size(), 1u);
  EXPECT_EQ(page->result.attributes[0].tags, std::vector<std::string>{"tlp:white"});
}

TEST(RestSearchPage, AcceptsEmptyPage) {
  absl::StatusOr<RestSearchPage> page =
      ParseRestSearchPage(R"({"response": {"Attribute": []}})", "application/json", "p");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->entries, 0u);
  EXPECT_TRUE(page->result.attributes.empty());
}

TEST(RestSearchPage, RejectsHtml) {
  absl::StatusOr<RestSearchPage> page = ParseRestSearchPage(
      "<!DOCTYPE html><html><body>Login</body></html>", "text/html; charset=UTF-8",
      "POST https://misp.example/attributes/restSearch (page 1)");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(MessageOf(page.status()),
                       "POST https://misp.example/attributes/restSearch (page 1)"));
  EXPECT_TRUE(Contains(MessageOf(page.status()), "HTML"));
}

TEST(RestSearchPage, RejectsHtmlDespiteJsonContentType) {
  absl::StatusOr<RestSearchPage> page =
      ParseRestSearchPage("  <html>proxy error</html>", "application/json", "p");
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(Contains(MessageOf(page.status()), "HTML"));
}

TEST(RestSearchPage, RejectsEmptyBody) {
  absl::StatusOr<RestSearchPage> page = ParseRestSearchPage("", "application/json", "p");
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(Contains(MessageOf(page.status()), "empty body"));
}

TEST(RestSearchPage, RejectsInvalidJson) {
  absl::StatusOr<RestSearchPage> page =
      ParseRestSearchPage(R"({"response": {"Attribute": [}, ]}})", "application/json", "p");
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(Contains(MessageOf(page.status()), "invalid JSON"));
}

TEST(RestSearchPage, RejectsTruncatedJson) {
  const std::string whole =
      PageJson({{.uuid = "aaaaaaaa-0000-4000-8000-000000000001", .value = "8.8.8.8"},
                {.uuid = "aaaaaaaa-0000-4000-8000-000000000002", .value = "1.2.3.4"}});
  for (size_t cut : {whole.size() / 2, whole.size() - 1, size_t{30}}) {
    absl::StatusOr<RestSearchPage> page =
        ParseRestSearchPage(std::string_view(whole).substr(0, cut), "application/json", "p");
    ASSERT_FALSE(page.ok()) << "cut at " << cut;
    EXPECT_TRUE(Contains(MessageOf(page.status()), "truncated JSON")) << page.status();
  }
}

TEST(RestSearchPage, RejectsOtherShapes) {
  for (std::string_view body :
       {R"({"response": []})", R"([])", R"({"Attribute": []})", R"({"response": {"Event": []}})",
        R"("text")", R"({"name": "Not Found", "message": "Not Found"})"}) {
    absl::StatusOr<RestSearchPage> page = ParseRestSearchPage(body, "application/json", "p");
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_TRUE(Contains(MessageOf(page.status()), R"(expected {"response": {"Attribute")"))
        << page.status();
  }
}

// --- feed manifests ---

TEST(FeedManifest, ReadsRealManifest) {
  const fs::path path = TestDataDir() / "misp" / "feed" / "manifest.json";
  absl::StatusOr<std::vector<ManifestEntry>> entries =
      ParseFeedManifest(ReadText(path), "application/json", path.string());
  ASSERT_TRUE(entries.ok()) << entries.status();
  // jq -r 'to_entries[] | "\(.key) \(.value.timestamp)"' tests/data/misp/feed/manifest.json
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].uuid, "dad88707-beb8-4a14-94e2-5ffecf5a5f85");
  EXPECT_EQ((*entries)[0].timestamp, 1715767121);
  EXPECT_EQ((*entries)[4].uuid, "a8a516f1-613c-4f74-abc0-1f9abb615af7");
  EXPECT_EQ((*entries)[4].timestamp, 1764612438);
  EXPECT_EQ((*entries)[0].tags, (std::vector<std::string>{"tlp:white", "infoblox"}));
}

TEST(FeedManifest, RejectsUnsafeUuid) {
  absl::StatusOr<std::vector<ManifestEntry>> entries =
      ParseFeedManifest(R"({"../etc/passwd": {"timestamp": 1}})", "application/json", "m");
  ASSERT_FALSE(entries.ok());
  EXPECT_TRUE(Contains(MessageOf(entries.status()), "invalid event uuid"));
}

TEST(FeedManifest, RejectsEntryWithoutTimestamp) {
  absl::StatusOr<std::vector<ManifestEntry>> entries = ParseFeedManifest(
      R"({"dad88707-beb8-4a14-94e2-5ffecf5a5f85": {"info": "x"}})", "application/json", "m");
  ASSERT_FALSE(entries.ok());
  EXPECT_TRUE(Contains(MessageOf(entries.status()), "timestamp"));
}

TEST(FeedManifest, RejectsList) {
  absl::StatusOr<std::vector<ManifestEntry>> entries =
      ParseFeedManifest("[1, 2]", "application/json", "m");
  ASSERT_FALSE(entries.ok());
  EXPECT_TRUE(Contains(MessageOf(entries.status()), "found an array"));
}

TEST(FeedManifest, ManifestUrlFromFeedUrl) {
  EXPECT_EQ(FeedManifestUrl("https://h/feed/"), "https://h/feed/manifest.json");
  EXPECT_EQ(FeedManifestUrl("https://h/feed"), "https://h/feed/manifest.json");
  EXPECT_EQ(FeedManifestUrl("https://h/feed/manifest.json"), "https://h/feed/manifest.json");
}

// --- the merge of incremental syncs ---

constexpr std::string_view kFirst = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr std::string_view kSecond = "aaaaaaaa-0000-4000-8000-000000000002";
constexpr std::string_view kThird = "aaaaaaaa-0000-4000-8000-000000000003";

TEST(RestAttributeSet, ChangedAttributeReplacesStoredOne) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"},
                  {.uuid = std::string(kSecond), .value = "1.2.3.4"}}),
            {});
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.4.4", .timestamp = 1700000100}}), {});
  LoadResult built = set.Build("https://misp.example");
  ASSERT_EQ(built.attributes.size(), 2u);
  const Attribute* first = FindAttribute(built, kFirst);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->value, "8.8.4.4");
  EXPECT_EQ(first->timestamp, 1700000100);
  EXPECT_EQ(set.max_timestamp(), 1700000100);
}

TEST(RestAttributeSet, ReportsWhetherSetChanged) {
  RestAttributeSet set;
  EXPECT_TRUE(set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"}}), {}));
  EXPECT_FALSE(set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"}}), {}));
  EXPECT_TRUE(set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.4.4"}}), {}));
  EXPECT_TRUE(set.Apply(
      Page({{.uuid = std::string(kFirst), .value = "8.8.4.4", .event_info = "renamed"}}), {}));
  EXPECT_FALSE(
      set.Apply(Page({{.uuid = std::string(kThird), .value = "9.9.9.9", .deleted = true}}), {}));
  EXPECT_TRUE(
      set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.4.4", .deleted = true}}), {}));
  EXPECT_FALSE(set.DropOlderThan(0));
}

TEST(RestAttributeSet, DeletedAttributeIsRemoved) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"},
                  {.uuid = std::string(kSecond), .value = "1.2.3.4"}}),
            {});
  set.Apply(Page({{.uuid = std::string(kSecond), .value = "1.2.3.4", .deleted = true}}), {});
  LoadResult built = set.Build("https://misp.example");
  ASSERT_EQ(built.attributes.size(), 1u);
  EXPECT_EQ(built.attributes[0].uuid, kFirst);
  EXPECT_FALSE(set.contains(std::string(kSecond)));
}

TEST(RestAttributeSet, DeletedUnknownAttributeIsIgnored) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kThird), .value = "9.9.9.9", .deleted = true}}), {});
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(set.Build("u").events.empty());
}

TEST(RestAttributeSet, ClearedToIdsRemovesAttribute) {
  RestAttributeSet set;
  const RestAttributeSet::Retention ids_only{.to_ids = true};
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"}}), ids_only);
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8", .to_ids = false}}), ids_only);
  EXPECT_EQ(set.size(), 0u);
}

TEST(RestAttributeSet, OldAttributesDropOut) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8", .timestamp = 100},
                  {.uuid = std::string(kSecond), .value = "1.2.3.4", .timestamp = 300}}),
            {.min_timestamp = 200});
  EXPECT_EQ(set.size(), 1u);
  set.DropOlderThan(400);
  EXPECT_EQ(set.size(), 0u);
}

TEST(RestAttributeSet, EventsAreSharedAcrossPages) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"}}), {});
  set.Apply(Page({{.uuid = std::string(kSecond), .value = "1.2.3.4"}}), {});
  set.Apply(Page({{.uuid = std::string(kThird),
                   .value = "5.6.7.8",
                   .event_uuid = "57153590-f73c-49fa-be4b-4737950d210f",
                   .event_info = "second event"}}),
            {});
  LoadResult built = set.Build("https://misp.example");
  ASSERT_EQ(built.events.size(), 2u);
  ASSERT_EQ(built.attributes.size(), 3u);
  for (const Attribute& attribute : built.attributes) {
    const Event& event = built.events[attribute.event_index];
    EXPECT_EQ(event.source, "https://misp.example");
    EXPECT_EQ(event.info, attribute.uuid == kThird ? "second event" : "STIX indicators test event");
  }
}

TEST(RestAttributeSet, EventChangeReachesAllAttributes) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"},
                  {.uuid = std::string(kSecond), .value = "1.2.3.4"}}),
            {});
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8", .event_info = "renamed"}}), {});
  LoadResult built = set.Build("u");
  ASSERT_EQ(built.events.size(), 1u);
  EXPECT_EQ(built.events[0].info, "renamed");
}

TEST(RestAttributeSet, BuildIsOrderedByUuid) {
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kThird), .value = "5.6.7.8"},
                  {.uuid = std::string(kFirst), .value = "8.8.8.8"}}),
            {});
  LoadResult built = set.Build("u");
  ASSERT_EQ(built.attributes.size(), 2u);
  EXPECT_EQ(built.attributes[0].uuid, kFirst);
  EXPECT_EQ(built.attributes[1].uuid, kThird);
}

TEST(NextSyncTimestamp, UsesHighestSeenTimestamp) {
  EXPECT_EQ(NextSyncTimestamp(0, 1700000000, 1800000000), 1700000000);
}

TEST(NextSyncTimestamp, CapsFutureTimestampsAtSyncStart) {
  // An attribute dated in 2100 must not hide the changes of the next years.
  EXPECT_EQ(NextSyncTimestamp(0, 4102444800, 1800000000), 1800000000);
}

TEST(NextSyncTimestamp, NeverMovesBack) {
  EXPECT_EQ(NextSyncTimestamp(1750000000, 1700000000, 1800000000), 1750000000);
  EXPECT_EQ(NextSyncTimestamp(1750000000, 0, 1800000000), 1750000000);
}

// --- merging several sources ---

TEST(AppendLoadResult, KeepsBothContextsInSourceOrder) {
  const fs::path event = TestDataDir() / "misp" / "events" / "misp-stixtest-all-types.json";
  absl::StatusOr<LoadResult> from_file = LoadMispPath(event.string());
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  RestAttributeSet set;
  set.Apply(Page({{.uuid = "5ac337df-3c54-413c-a748-02550a00020f", .value = "8.8.8.8"}}), {});

  LoadResult merged;
  AppendLoadResult(merged, *from_file);
  AppendLoadResult(merged, set.Build("https://misp.example"));
  ASSERT_EQ(merged.events.size(), 2u);
  EXPECT_EQ(merged.events[0].source, event.string());
  EXPECT_EQ(merged.events[1].source, "https://misp.example");
  std::vector<std::string> sources;
  for (const Attribute& attribute : merged.attributes) {
    if (attribute.uuid == "5ac337df-3c54-413c-a748-02550a00020f") {
      sources.push_back(merged.events[attribute.event_index].source);
    }
  }
  EXPECT_EQ(sources, (std::vector<std::string>{event.string(), "https://misp.example"}));
}

// --- filters ---

TEST(SyncFilters, TagFilter) {
  const std::vector<std::string> tags = {"tlp:white", "type:OSINT"};
  EXPECT_TRUE(MatchesTagFilter({}, tags));
  EXPECT_TRUE(MatchesTagFilter({"tlp:white"}, tags));
  EXPECT_TRUE(MatchesTagFilter({"tlp:red", "type:OSINT"}, tags));
  EXPECT_FALSE(MatchesTagFilter({"tlp:red"}, tags));
  EXPECT_FALSE(MatchesTagFilter({"!type:OSINT"}, tags));
  EXPECT_TRUE(MatchesTagFilter({"!tlp:red"}, tags));
  EXPECT_FALSE(MatchesTagFilter({"tlp:white", "!type:OSINT"}, tags));
}

TEST(SyncFilters, MaxAge) {
  EXPECT_EQ(*ParseMaxAge("30d"), 30 * 86400);
  EXPECT_EQ(*ParseMaxAge("12h"), 12 * 3600);
  EXPECT_EQ(*ParseMaxAge("90m"), 90 * 60);
  EXPECT_EQ(*ParseMaxAge("45s"), 45);
  EXPECT_EQ(*ParseMaxAge("600"), 600);
  for (std::string_view invalid : {"", "d", "0d", "-1d", "3w", "1.5d", "30 d"}) {
    absl::StatusOr<int64_t> age = ParseMaxAge(invalid);
    EXPECT_FALSE(age.ok()) << invalid;
  }
}

TEST(RestSearchBody, FullSyncRequest) {
  SyncFilters filters;
  filters.tags = {"tlp:white", "!false-positive"};
  filters.published = true;
  rapidjson::Document body;
  body.Parse(RestSearchBody(filters, true, 0, 3, 100).c_str());
  ASSERT_FALSE(body.HasParseError());
  EXPECT_STREQ(body["returnFormat"].GetString(), "json");
  EXPECT_EQ(body["page"].GetInt(), 3);
  EXPECT_EQ(body["limit"].GetInt(), 100);
  EXPECT_EQ(body["timestamp"].GetInt64(), 0);
  EXPECT_EQ(body["to_ids"].GetInt(), 1);
  EXPECT_EQ(body["published"].GetInt(), 1);
  EXPECT_TRUE(body["includeEventTags"].GetBool());
  ASSERT_EQ(body["deleted"].Size(), 2u);
  EXPECT_EQ(body["deleted"][0].GetInt(), 0);
  EXPECT_EQ(body["deleted"][1].GetInt(), 1);
  ASSERT_EQ(body["tags"].Size(), 2u);
  EXPECT_STREQ(body["tags"][1].GetString(), "!false-positive");
}

TEST(RestSearchBody, IncrementalRequestLeavesOutToIds) {
  rapidjson::Document body;
  body.Parse(RestSearchBody({}, std::nullopt, 1700000000, 1, 5000).c_str());
  ASSERT_FALSE(body.HasParseError());
  EXPECT_EQ(body["timestamp"].GetInt64(), 1700000000);
  EXPECT_FALSE(body.HasMember("to_ids"));
  EXPECT_FALSE(body.HasMember("published"));
  EXPECT_FALSE(body.HasMember("tags"));
}

// --- snapshots ---

TEST(Snapshot, RoundTripsRealEvent) {
  const fs::path event = TestDataDir() / "misp" / "events" / "misp-stixtest-all-types.json";
  absl::StatusOr<LoadResult> original = LoadMispPath(event.string());
  ASSERT_TRUE(original.ok()) << original.status();
  TempDir directory;
  const std::string url = "https://misp.example/";
  const std::string path = SnapshotPath(directory.path().string(), "rest", url);
  ASSERT_TRUE(WriteFileAtomically(directory.path().string(), path,
                                  FormatSnapshot(*original, "rest", url, 1700000000))
                  .ok());

  absl::StatusOr<LoadedSnapshot> loaded =
      ReadSnapshot(path, "rest", url, [](const Event&) { return std::string("restored"); });
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->written_unix, 1700000000);
  const LoadResult& copy = loaded->data;
  EXPECT_TRUE(copy.errors.empty()) << copy.errors.front();
  ASSERT_EQ(copy.events.size(), original->events.size());
  ASSERT_EQ(copy.attributes.size(), original->attributes.size());
  const Event& a = original->events[0];
  const Event& b = copy.events[0];
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.uuid, a.uuid);
  EXPECT_EQ(b.info, a.info);
  EXPECT_EQ(b.date, a.date);
  EXPECT_EQ(b.org, a.org);
  EXPECT_EQ(b.threat_level_id, a.threat_level_id);
  EXPECT_EQ(b.analysis, a.analysis);
  EXPECT_EQ(b.published, a.published);
  EXPECT_EQ(b.timestamp, a.timestamp);
  EXPECT_EQ(b.tags, a.tags);
  EXPECT_EQ(b.source, "restored");
  // Objects are written after the top-level attributes, so compare by uuid.
  for (const Attribute& expected : original->attributes) {
    const Attribute* actual = FindAttribute(copy, expected.uuid);
    ASSERT_NE(actual, nullptr) << expected.uuid;
    EXPECT_EQ(actual->type, expected.type);
    EXPECT_EQ(actual->category, expected.category);
    EXPECT_EQ(actual->value, expected.value);
    EXPECT_EQ(actual->comment, expected.comment);
    EXPECT_EQ(actual->object_name, expected.object_name);
    EXPECT_EQ(actual->object_relation, expected.object_relation);
    EXPECT_EQ(actual->to_ids, expected.to_ids);
    EXPECT_EQ(actual->deleted, expected.deleted);
    EXPECT_EQ(actual->timestamp, expected.timestamp);
    EXPECT_EQ(actual->tags, expected.tags);
  }
}

TEST(Snapshot, IsAnOrdinaryMispFile) {
  TempDir directory;
  RestAttributeSet set;
  set.Apply(Page({{.uuid = std::string(kFirst), .value = "8.8.8.8"}}), {});
  const std::string path = (directory.path() / "copy.json").string();
  ASSERT_TRUE(WriteFileAtomically(directory.path().string(), path,
                                  FormatSnapshot(set.Build("u"), "rest", "u", 1))
                  .ok());
  absl::StatusOr<LoadResult> loaded = LoadMispPath(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->attributes.size(), 1u);
  EXPECT_EQ(loaded->attributes[0].value, "8.8.8.8");
}

TEST(Snapshot, FileIsPrivateAndNoTemporaryRemains) {
  TempDir directory;
  const std::string state = (directory.path() / "state").string();
  const std::string path = SnapshotPath(state, "feed", "https://h/feed/");
  ASSERT_TRUE(WriteFileAtomically(state, path, "{}").ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(state.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(state)) {
    ++files;
    EXPECT_EQ(entry.path().string(), path);
  }
  EXPECT_EQ(files, 1u);
}

TEST(Snapshot, RejectsOtherSource) {
  TempDir directory;
  const std::string path = (directory.path() / "s.json").string();
  ASSERT_TRUE(WriteFileAtomically(directory.path().string(), path,
                                  FormatSnapshot({}, "rest", "https://a/", 1))
                  .ok());
  absl::StatusOr<LoadedSnapshot> loaded =
      ReadSnapshot(path, "rest", "https://b/", [](const Event&) { return std::string(); });
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(MessageOf(loaded.status()), "https://a/"));
}

TEST(Snapshot, MissingIsNotFound) {
  absl::StatusOr<LoadedSnapshot> loaded = ReadSnapshot("/nonexistent/misp.json", "rest", "u",
                                                       [](const Event&) { return std::string(); });
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(Snapshot, PathsDifferPerSource) {
  EXPECT_NE(SnapshotPath("/s", "rest", "https://h/"), SnapshotPath("/s", "feed", "https://h/"));
  EXPECT_NE(SnapshotPath("/s", "feed", "https://h/a/"), SnapshotPath("/s", "feed", "https://h/b/"));
  EXPECT_TRUE(SnapshotPath("/s", "feed", "https://h:8443/a/").starts_with("/s/misp-feed-h_8443-"));
}

TEST(Snapshot, FormatAge) {
  EXPECT_EQ(FormatAge(12), "12s");
  EXPECT_EQ(FormatAge(250), "4m 10s");
  EXPECT_EQ(FormatAge(7500), "2h 5m");
  EXPECT_EQ(FormatAge(3 * 86400 + 4 * 3600 + 5), "3d 4h");
}

// --- HTTP helpers ---

TEST(MispHttp, BackoffGrowsAndIsCapped) {
  HttpOptions options;
  options.backoff_initial = std::chrono::milliseconds(500);
  options.backoff_max = std::chrono::milliseconds(4000);
  EXPECT_EQ(BackoffDelay(options, 0, 0.0).count(), 250);
  EXPECT_EQ(BackoffDelay(options, 0, 0.999).count(), 499);
  EXPECT_EQ(BackoffDelay(options, 1, 0.0).count(), 500);
  EXPECT_EQ(BackoffDelay(options, 2, 0.0).count(), 1000);
  EXPECT_EQ(BackoffDelay(options, 10, 0.0).count(), 2000);
  EXPECT_EQ(BackoffDelay(options, 10, 0.999).count(), 3998);
}

TEST(MispHttp, RetryableStatuses) {
  EXPECT_TRUE(IsRetryableStatus(500));
  EXPECT_TRUE(IsRetryableStatus(503));
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(408));
  EXPECT_FALSE(IsRetryableStatus(403));
  EXPECT_FALSE(IsRetryableStatus(404));
  EXPECT_FALSE(IsRetryableStatus(200));
}

TEST(MispHttp, UrlChecks) {
  EXPECT_TRUE(ValidateMispUrl("https://misp.example", "--misp-rest").ok());
  EXPECT_TRUE(ValidateMispUrl("http://127.0.0.1:8080/feed/", "--misp").ok());
  absl::Status credentials = ValidateMispUrl("https://admin:s3cret@misp.example/", "--misp-rest");
  ASSERT_FALSE(credentials.ok());
  EXPECT_FALSE(Contains(MessageOf(credentials), "s3cret"));
  EXPECT_TRUE(Contains(MessageOf(credentials), "--misp-key-file"));
  EXPECT_FALSE(ValidateMispUrl("ftp://misp.example/", "--misp").ok());
  EXPECT_FALSE(ValidateMispUrl("https://misp.example/?key=1", "--misp").ok());
  EXPECT_FALSE(ValidateMispUrl("not a url", "--misp").ok());
}

TEST(MispHttp, KeyFileMustBePrivate) {
  TempDir directory;
  const std::string path = (directory.path() / "key").string();
  std::ofstream(path) << "  AbCdEf0123456789  \n";
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::StatusOr<std::string> key = ReadApiKeyFile(path);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(MessageOf(key.status()), path));
  EXPECT_TRUE(Contains(MessageOf(key.status()), "chmod 600"));
  EXPECT_FALSE(Contains(MessageOf(key.status()), "AbCdEf0123456789"));

  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  key = ReadApiKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "AbCdEf0123456789");
}

TEST(MispHttp, KeyFileMustHoldOneLine) {
  TempDir directory;
  const std::string path = (directory.path() / "key").string();
  std::ofstream(path) << "first\nsecond\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  absl::StatusOr<std::string> key = ReadApiKeyFile(path);
  ASSERT_FALSE(key.ok());
  EXPECT_FALSE(Contains(MessageOf(key.status()), "first"));
  std::ofstream(path, std::ios::trunc) << "\n";
  EXPECT_FALSE(ReadApiKeyFile(path).ok());
  EXPECT_EQ(ReadApiKeyFile((directory.path() / "missing").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MispHttp, RedactRemovesEverySecret) {
  EXPECT_EQ(Redact("key K1 and K1 again", "K1"), "key <redacted> and <redacted> again");
  EXPECT_EQ(Redact("nothing", ""), "nothing");
}

TEST(MispSync, CreateChecksOptions) {
  MispSyncOptions options;
  EXPECT_EQ(MispSync::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.sources = {{SourceKind::kRest, "https://misp.example"}};
  absl::StatusOr<std::unique_ptr<MispSync>> sync = MispSync::Create(options);
  ASSERT_FALSE(sync.ok());
  EXPECT_TRUE(Contains(MessageOf(sync.status()), "--misp-key-file"));
  options.sources = {{SourceKind::kFeed, "file:///etc/"}};
  EXPECT_EQ(MispSync::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MispSync, FileSourcesMergeInOrder) {
  const fs::path events = TestDataDir() / "misp" / "events";
  MispSyncOptions options;
  options.sources = {
      {SourceKind::kPath, (events / "misp-stixtest-all-types.json").string()},
      {SourceKind::kPath, (events / "circl-osint-asert-four-element-sword.json").string()}};
  absl::StatusOr<std::unique_ptr<MispSync>> sync = MispSync::Create(options);
  ASSERT_TRUE(sync.ok()) << sync.status();
  absl::StatusOr<SyncResult> result = (*sync)->Sync();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->merged.events.size(), 2u);
  // jq -r .Event.uuid tests/data/misp/events/<file>
  EXPECT_EQ(result->merged.events[0].uuid, "5abb8534-ba9c-48cd-bb63-02480a00020f");
  EXPECT_EQ(result->merged.events[1].uuid, "57153590-f73c-49fa-be4b-4737950d210f");
  ASSERT_EQ(result->sources.size(), 2u);
  EXPECT_TRUE(result->sources[0].status.ok());
}

TEST(MispSync, MissingFileFailsFirstSync) {
  MispSyncOptions options;
  options.sources = {{SourceKind::kPath, "/nonexistent/misp.json"}};
  absl::StatusOr<std::unique_ptr<MispSync>> sync = MispSync::Create(options);
  ASSERT_TRUE(sync.ok()) << sync.status();
  absl::StatusOr<SyncResult> result = (*sync)->Sync();
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(MessageOf(result.status()), "/nonexistent/misp.json"));
}

}  // namespace
}  // namespace sensor::misp

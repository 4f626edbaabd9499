#include "ctrlplane/misp/misp_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_model.h"
#include "fmt/format.h"

namespace sensor::misp {
namespace {

namespace fs = std::filesystem;

// The tests/data directory: $SENSOR_TEST_DATA, as meson sets it, or else found from this
// file's own path (tests/ctrlplane/misp/misp_loader_test.cc).
fs::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') {
    return from_environment;
  }
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

fs::path MispDataDir() { return TestDataDir() / "misp"; }

absl::StatusOr<LoadResult> LoadMispData(const std::string& relative_path) {
  return LoadMispPath((MispDataDir() / relative_path).string());
}

std::string JoinErrors(const LoadResult& result) { return absl::StrJoin(result.errors, "\n"); }

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool StartsWith(std::string_view text, std::string_view prefix) { return text.starts_with(prefix); }

bool EndsWith(std::string_view text, std::string_view suffix) { return text.ends_with(suffix); }

std::string_view MessageOf(const absl::Status& status) { return ToStd(status.message()); }

bool HasTag(const std::vector<std::string>& tags, std::string_view tag) {
  for (const std::string& candidate : tags) {
    if (candidate == tag) {
      return true;
    }
  }
  return false;
}

const Event* FindEventByInfo(const LoadResult& result, std::string_view info) {
  for (const Event& event : result.events) {
    if (event.info == info) {
      return &event;
    }
  }
  return nullptr;
}

uint32_t IndexOf(const LoadResult& result, const Event* event) {
  return static_cast<uint32_t>(event - result.events.data());
}

const Attribute* FindAttribute(const LoadResult& result, std::string_view uuid) {
  for (const Attribute& attribute : result.attributes) {
    if (attribute.uuid == uuid) {
      return &attribute;
    }
  }
  return nullptr;
}

// Attribute count per MISP type, over the attributes of one event that are not inside
// a MISP object.
std::map<std::string, int> CountTopLevelTypes(const LoadResult& result, uint32_t event_index) {
  std::map<std::string, int> counts;
  for (const Attribute& attribute : result.attributes) {
    if (attribute.event_index == event_index && attribute.object_name.empty()) {
      ++counts[attribute.type];
    }
  }
  return counts;
}

int CountObjectAttributes(const LoadResult& result, std::string_view object_name,
                          std::string_view relation) {
  int count = 0;
  for (const Attribute& attribute : result.attributes) {
    if (attribute.object_name == object_name && attribute.object_relation == relation) {
      ++count;
    }
  }
  return count;
}

// A directory under the GoogleTest temporary directory, removed with everything in it when
// the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(testing::TempDir()) /
            fmt::format("misp_loader_test_{}_{}", test->name(), getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const fs::path& path() const { return path_; }

  void WriteFile(const std::string& name, std::string_view contents) const {
    std::ofstream file(path_ / name, std::ios::binary);
    file << contents;
  }

 private:
  fs::path path_;
};

// A small valid feed event file. Its uuid matches the manifest key used with it.
std::string SmallFeedEvent(std::string_view uuid, std::string_view domain) {
  return fmt::format(R"({{"Event": {{"uuid": "{0}", "info": "small", "Attribute": [
      {{"uuid": "{0}-a1", "type": "domain", "value": "{1}", "to_ids": true}}]}}}})",
                     uuid, domain);
}

// ---------------------------------------------------------------------------------------
// Feed directory: tests/data/misp/feed, five Infoblox events.

TEST(MispLoaderFeedTest, LoadsEveryManifestEntry) {
  absl::StatusOr<LoadResult> result = LoadMispData("feed");
  ASSERT_TRUE(result.ok()) << result.status();

  // manifest.json has 5 keys and every <uuid>.json is present.
  EXPECT_EQ(result->events.size(), 5u);
  EXPECT_EQ(result->files_read, 5u);
  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  EXPECT_EQ(result->rejected_attributes, 0u);
  // Sum of the Event.Attribute lengths of the five files: 6 + 29 + 42 + 56 + 82.
  EXPECT_EQ(result->attributes.size(), 215u);
}

TEST(MispLoaderFeedTest, CountsTypesPerEvent) {
  absl::StatusOr<LoadResult> result = LoadMispData("feed");
  ASSERT_TRUE(result.ok()) << result.status();

  // Counted in each file with Python's collections.Counter(a["type"] for a in
  // Event.Attribute). The files have no Object arrays.
  struct Expected {
    std::string_view info;
    std::map<std::string, int> types;
  };
  const std::vector<Expected> expected_events = {
      {"c2_beacon_20230414_iocs", {{"domain", 6}}},
      {"decoy_dog_cta_20230714_iocs",
       {{"ip-dst", 12}, {"domain", 10}, {"sha256", 6}, {"filename|sha256", 1}}},
      {"vault_viper_20251016", {{"domain", 31}, {"ip-dst", 8}, {"url", 2}, {"sha256", 1}}},
      {"sitting_ducks_20241113_iocs", {{"domain", 50}, {"url", 6}}},
      {"evilginx_20251201", {{"domain", 67}, {"ip-dst", 15}}},
  };
  for (const Expected& expected : expected_events) {
    SCOPED_TRACE(expected.info);
    const Event* event = FindEventByInfo(*result, expected.info);
    ASSERT_NE(event, nullptr);
    std::map<std::string, int> counts = CountTopLevelTypes(*result, IndexOf(*result, event));
    EXPECT_EQ(counts.size(), expected.types.size());
    for (const auto& [type, count] : expected.types) {
      EXPECT_EQ(counts[type], count) << type;
    }
  }
}

TEST(MispLoaderFeedTest, ReadsEventContext) {
  absl::StatusOr<LoadResult> result = LoadMispData("feed");
  ASSERT_TRUE(result.ok()) << result.status();

  // The two 2023 events are tagged tlp:white, the three later ones tlp:clear, and all five
  // "infoblox". Orgc.name is "Infoblox" in every file.
  for (const Event& event : result->events) {
    SCOPED_TRACE(event.info);
    EXPECT_EQ(event.org, "Infoblox");
    EXPECT_TRUE(HasTag(event.tags, "tlp:white") || HasTag(event.tags, "tlp:clear"));
    EXPECT_TRUE(HasTag(event.tags, "infoblox"));
    EXPECT_EQ(event.tags.size(), 2u);
    EXPECT_TRUE(event.published);
  }

  // Values from 68f58844-4aa6-4e1c-8ee5-cfb58eb6665e.json, where threat_level_id, analysis
  // and timestamp are strings ("1", "2", "1715767151") and published is the boolean true.
  const Event* decoy_dog = FindEventByInfo(*result, "decoy_dog_cta_20230714_iocs");
  ASSERT_NE(decoy_dog, nullptr);
  EXPECT_EQ(decoy_dog->uuid, "68f58844-4aa6-4e1c-8ee5-cfb58eb6665e");
  EXPECT_EQ(decoy_dog->id, "");
  EXPECT_EQ(decoy_dog->date, "2023-07-14");
  EXPECT_EQ(decoy_dog->threat_level_id, 1);
  EXPECT_EQ(decoy_dog->analysis, 2);
  EXPECT_EQ(decoy_dog->timestamp, 1715767151);
  EXPECT_TRUE(HasTag(decoy_dog->tags, "tlp:white"));
  EXPECT_TRUE(EndsWith(decoy_dog->source, "68f58844-4aa6-4e1c-8ee5-cfb58eb6665e.json"))
      << decoy_dog->source;

  const Event* evilginx = FindEventByInfo(*result, "evilginx_20251201");
  ASSERT_NE(evilginx, nullptr);
  EXPECT_TRUE(HasTag(evilginx->tags, "tlp:clear"));
}

TEST(MispLoaderFeedTest, ReadsAttributeFields) {
  absl::StatusOr<LoadResult> result = LoadMispData("feed");
  ASSERT_TRUE(result.ok()) << result.status();

  // Every attribute in the five files has "to_ids": true and none is in an object.
  for (const Attribute& attribute : result->attributes) {
    SCOPED_TRACE(attribute.uuid);
    EXPECT_TRUE(attribute.to_ids);
    EXPECT_FALSE(attribute.deleted);
    EXPECT_TRUE(attribute.object_name.empty());
  }

  // The first attribute of the decoy_dog file.
  const Attribute* domain = FindAttribute(*result, "64373520-0b1b-409a-990a-0b0cf8cadb84");
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(domain->type, "domain");
  EXPECT_EQ(domain->value, "ads-tm-glb.click");
  EXPECT_EQ(domain->category, "Network activity");
  EXPECT_EQ(domain->timestamp, 1669327200);
  EXPECT_EQ(result->events[domain->event_index].info, "decoy_dog_cta_20230714_iocs");
}

// ---------------------------------------------------------------------------------------
// Single event exports: tests/data/misp/events.

TEST(MispLoaderEventTest, FallchillTopLevelAttributes) {
  absl::StatusOr<LoadResult> result =
      LoadMispData("events/circl-osint-fallchill-hidden-cobra.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_EQ(result->events.size(), 1u);
  EXPECT_EQ(result->files_read, 1u);
  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  EXPECT_EQ(result->rejected_attributes, 0u);
  // 111 entries in Event.Attribute plus 17 in the five Object[].Attribute arrays.
  EXPECT_EQ(result->attributes.size(), 128u);

  // Counted with Python's collections.Counter(a["type"] for a in Event.Attribute).
  std::map<std::string, int> counts = CountTopLevelTypes(*result, 0);
  EXPECT_EQ(counts["ip-dst"], 87);
  EXPECT_EQ(counts["ip-dst|port"], 3);
  EXPECT_EQ(counts["md5"], 14);
  EXPECT_EQ(counts["attachment"], 1);

  // All 87 ip-dst and 3 ip-dst|port attributes have "to_ids": true.
  for (const Attribute& attribute : result->attributes) {
    if (attribute.type == "ip-dst" || attribute.type == "ip-dst|port") {
      EXPECT_TRUE(attribute.to_ids) << attribute.uuid;
    }
  }
  const Attribute* port = FindAttribute(*result, "5a0d6a76-e5f0-4f3d-b7c0-76fa950d210f");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->value, "10.10.30.110|1992");
  EXPECT_EQ(port->comment, "On port 1992");
}

TEST(MispLoaderEventTest, FallchillEventContext) {
  absl::StatusOr<LoadResult> result =
      LoadMispData("events/circl-osint-fallchill-hidden-cobra.json");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 1u);

  // The file writes "published": false and "threat_level_id": "3", and has 5 event tags.
  const Event& event = result->events[0];
  EXPECT_EQ(event.uuid, "5a0d5bf4-99c8-4f15-9879-22b1950d210f");
  EXPECT_EQ(event.org, "CIRCL");
  EXPECT_EQ(event.date, "2017-11-14");
  EXPECT_EQ(event.timestamp, 1511183733);
  EXPECT_EQ(event.threat_level_id, 3);
  EXPECT_FALSE(event.published);
  EXPECT_EQ(event.tags.size(), 5u);
  EXPECT_TRUE(HasTag(event.tags, "tlp:white"));
  EXPECT_TRUE(HasTag(event.tags, "misp-galaxy:rat=\"FALLCHILL\""));
}

TEST(MispLoaderEventTest, FallchillAttachmentAndObjects) {
  absl::StatusOr<LoadResult> result =
      LoadMispData("events/circl-osint-fallchill-hidden-cobra.json");
  ASSERT_TRUE(result.ok()) << result.status();

  // The attachment attribute carries a base64 PDF of about 125 KB in "data", which the
  // loader skips, and one attribute-level tag.
  const Attribute* attachment = FindAttribute(*result, "5a0d6b47-01d4-4bef-b59c-4fcb950d210f");
  ASSERT_NE(attachment, nullptr);
  EXPECT_EQ(attachment->type, "attachment");
  EXPECT_EQ(attachment->value, "MAR-10135536-A_WHITE_S508C.pdf");
  EXPECT_FALSE(attachment->to_ids);
  EXPECT_EQ(attachment->tags, std::vector<std::string>{"tlp:white"});

  // Three ip-port objects, each with one "ip" (ip-dst) and one "dst-port" (port) attribute.
  // The two file objects hold 6 + 5 attributes.
  EXPECT_EQ(CountObjectAttributes(*result, "ip-port", "ip"), 3);
  EXPECT_EQ(CountObjectAttributes(*result, "ip-port", "dst-port"), 3);
  EXPECT_EQ(CountObjectAttributes(*result, "file", "md5"), 2);
  EXPECT_EQ(CountObjectAttributes(*result, "file", "size-in-bytes"), 1);

  const Attribute* object_ip = FindAttribute(*result, "5a0d6ada-0ee0-406e-8722-21c1950d210f");
  ASSERT_NE(object_ip, nullptr);
  EXPECT_EQ(object_ip->object_name, "ip-port");
  EXPECT_EQ(object_ip->object_relation, "ip");
  EXPECT_EQ(object_ip->type, "ip-dst");
  EXPECT_EQ(object_ip->value, "10.10.30.110");
  EXPECT_TRUE(object_ip->to_ids);
}

TEST(MispLoaderEventTest, StixTestObjectRelations) {
  absl::StatusOr<LoadResult> result = LoadMispData("events/misp-stixtest-all-types.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  // 26 top-level attributes (one per type) and 155 in 21 objects. The event's own
  // attribute_count field is "181" as well.
  EXPECT_EQ(result->attributes.size(), 181u);
  EXPECT_EQ(CountTopLevelTypes(*result, 0).size(), 26u);
  ASSERT_EQ(result->events.size(), 1u);
  EXPECT_EQ(result->events[0].id, "1255");
  EXPECT_EQ(result->events[0].org, "ORGNAME_387");

  // The ip-port object 5ac47edc-...: relation "ip" is ip-dst 8.8.8.8 with to_ids true,
  // "dst-port" is 443 with to_ids false. Its "deleted" flags are false.
  const Attribute* ip = FindAttribute(*result, "5ac47edc-0548-4a91-8beb-040d0a00020f");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->object_name, "ip-port");
  EXPECT_EQ(ip->object_relation, "ip");
  EXPECT_EQ(ip->type, "ip-dst");
  EXPECT_EQ(ip->value, "8.8.8.8");
  EXPECT_TRUE(ip->to_ids);
  EXPECT_FALSE(ip->deleted);

  const Attribute* port = FindAttribute(*result, "5ac47edc-dadc-4b3f-8405-040d0a00020f");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->object_relation, "dst-port");
  EXPECT_EQ(port->value, "443");
  EXPECT_FALSE(port->to_ids);

  // The domain-ip object contains the same address under the same relation name.
  const Attribute* domain_ip = FindAttribute(*result, "5ac337df-3c54-413c-a748-02550a00020f");
  ASSERT_NE(domain_ip, nullptr);
  EXPECT_EQ(domain_ip->object_name, "domain-ip");
  EXPECT_EQ(domain_ip->object_relation, "ip");

  // Top-level attributes have "object_relation": null, which leaves both fields empty.
  for (const Attribute& attribute : result->attributes) {
    if (attribute.object_name.empty()) {
      EXPECT_TRUE(attribute.object_relation.empty()) << attribute.uuid;
    }
  }
  // The vulnerability object lists 4 "references" (type link).
  EXPECT_EQ(CountObjectAttributes(*result, "vulnerability", "references"), 4);
}

TEST(MispLoaderEventTest, AsertMixedToIds) {
  absl::StatusOr<LoadResult> result =
      LoadMispData("events/circl-osint-asert-four-element-sword.json");
  ASSERT_TRUE(result.ok()) << result.status();

  // 370 attributes: 258 with "to_ids": true and 112 with false.
  EXPECT_EQ(result->attributes.size(), 370u);
  int to_ids_true = 0;
  for (const Attribute& attribute : result->attributes) {
    to_ids_true += attribute.to_ids ? 1 : 0;
  }
  EXPECT_EQ(to_ids_true, 258);
  EXPECT_EQ(CountTopLevelTypes(*result, 0)["hostname"], 21);
}

// ---------------------------------------------------------------------------------------
// restSearch responses: tests/data/misp/restsearch.

TEST(MispLoaderRestSearchTest, EsetResponseEnvelope) {
  absl::StatusOr<LoadResult> result =
      LoadMispData("restsearch/eset-oceanlotus-wateringhole-2018.restsearch.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  ASSERT_EQ(result->events.size(), 1u);
  const Event& event = result->events[0];
  EXPECT_EQ(event.id, "302");
  EXPECT_EQ(event.uuid, "5bf300da-6438-4372-a069-0b7b0a016219");
  EXPECT_EQ(event.org, "ESET");
  EXPECT_FALSE(event.published);
  // The only event tag is a galaxy tag, no TLP.
  EXPECT_EQ(event.tags, std::vector<std::string>{"misp-galaxy:mitre-intrusion-set=\"APT32\""});

  // 75 attributes, all with "to_ids": false and "deleted": false.
  EXPECT_EQ(result->attributes.size(), 75u);
  for (const Attribute& attribute : result->attributes) {
    EXPECT_FALSE(attribute.to_ids) << attribute.uuid;
    EXPECT_FALSE(attribute.deleted) << attribute.uuid;
  }
  std::map<std::string, int> counts = CountTopLevelTypes(*result, 0);
  EXPECT_EQ(counts["domain|ip"], 49);
  EXPECT_EQ(counts["domain"], 21);
  EXPECT_EQ(counts["url"], 1);
}

TEST(MispLoaderRestSearchTest, EsetMixedToIds) {
  absl::StatusOr<LoadResult> result = LoadMispData("restsearch/eset-telebots.restsearch.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  ASSERT_EQ(result->events.size(), 1u);
  EXPECT_TRUE(HasTag(result->events[0].tags, "tlp:white"));
  EXPECT_EQ(result->attributes.size(), 95u);

  // Of the 9 ip-dst attributes, 3 have "to_ids": true and 6 false.
  int ip_true = 0;
  int ip_false = 0;
  for (const Attribute& attribute : result->attributes) {
    if (attribute.type == "ip-dst") {
      ++(attribute.to_ids ? ip_true : ip_false);
    }
  }
  EXPECT_EQ(ip_true, 3);
  EXPECT_EQ(ip_false, 6);

  const Attribute* off = FindAttribute(*result, "58503f28-1a5c-46ca-a24e-4a3f02de0b81");
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(off->value, "188.165.14.185");
  EXPECT_FALSE(off->to_ids);
  const Attribute* on = FindAttribute(*result, "58503f3a-4414-4e2c-9562-424302de0b81");
  ASSERT_NE(on, nullptr);
  EXPECT_EQ(on->value, "93.190.137.212");
  EXPECT_TRUE(on->to_ids);
}

TEST(MispLoaderRestSearchTest, PyMispBareEventList) {
  absl::StatusOr<LoadResult> result = LoadMispData("restsearch/events-restsearch-pymisp-list.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  // Two events, "Recent Qakbot" (Orgc CUDESO, 2 sha256) and the Coronavirus one
  // (Orgc CERT.be, 2 ip-dst).
  ASSERT_EQ(result->events.size(), 2u);
  EXPECT_EQ(result->attributes.size(), 4u);
  const Event* qakbot = FindEventByInfo(*result, "Recent Qakbot");
  ASSERT_NE(qakbot, nullptr);
  EXPECT_EQ(qakbot->org, "CUDESO");
  EXPECT_EQ(qakbot->id, "143");
  EXPECT_TRUE(HasTag(qakbot->tags, "tlp:white"));
  EXPECT_EQ(CountTopLevelTypes(*result, IndexOf(*result, qakbot))["sha256"], 2);

  const Attribute* ip = FindAttribute(*result, "5e6b336d-5180-45aa-a1c1-457dd7dd9f6d");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->value, "192.35.177.64");
  EXPECT_FALSE(ip->to_ids);
  EXPECT_EQ(ip->tags.size(), 2u);
  EXPECT_EQ(result->events[ip->event_index].org, "CERT.be");
}

TEST(MispLoaderRestSearchTest, PyMispAttributeSearch) {
  absl::StatusOr<LoadResult> result = LoadMispData("restsearch/attributes-restsearch-pymisp.json");
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_TRUE(result->errors.empty()) << JoinErrors(*result);
  // Both md5 attributes embed the same Event stub (id "145"), so they share one Event.
  ASSERT_EQ(result->events.size(), 1u);
  ASSERT_EQ(result->attributes.size(), 2u);
  const Event& event = result->events[0];
  EXPECT_EQ(event.uuid, "56d76936-0d34-44ff-a8c5-5280c0a8ab16");
  EXPECT_EQ(event.id, "145");
  EXPECT_TRUE(StartsWith(event.info, "DDOS.TF = (new) ELF & Win32 DDoS service"));
  // The stub has only orgc_id, no Orgc name.
  EXPECT_EQ(event.org, "");

  for (const Attribute& attribute : result->attributes) {
    SCOPED_TRACE(attribute.uuid);
    EXPECT_EQ(attribute.event_index, 0u);
    EXPECT_EQ(attribute.type, "md5");
    EXPECT_TRUE(attribute.to_ids);
    EXPECT_EQ(attribute.timestamp, 1456957949);
    EXPECT_EQ(attribute.comment, "Imported via the freetext import.");
  }
  EXPECT_EQ(result->attributes[0].value, "71a868cdcc6b79b7d274e3b558cd4596");
}

TEST(MispLoaderRestSearchTest, ResponseAttributeSearchGroupsEvents) {
  // Two attributes name event uuid e1, two name event id 7 (by stub, then by event_id),
  // and the last names no event at all.
  constexpr std::string_view kJson = R"({"response": {"Attribute": [
    {"uuid": "a1", "type": "domain", "value": "one.example", "event_id": "3",
     "Event": {"id": "3", "uuid": "e1", "info": "first"}},
    {"uuid": "a2", "type": "domain", "value": "two.example", "event_id": "3",
     "object_relation": "domain", "Event": {"id": "3", "uuid": "e1", "info": "first"}},
    {"uuid": "a3", "type": "ip-dst", "value": "192.0.2.1", "Event": {"id": 7, "info": "x"}},
    {"uuid": "a4", "type": "ip-dst", "value": "192.0.2.2", "event_id": "7"},
    {"uuid": "a5-no-event", "type": "ip-dst", "value": "192.0.2.3"}
  ]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "search.json", result);
  ASSERT_TRUE(status.ok()) << status;

  ASSERT_EQ(result.events.size(), 2u);
  ASSERT_EQ(result.attributes.size(), 4u);
  EXPECT_EQ(result.attributes[0].event_index, result.attributes[1].event_index);
  EXPECT_EQ(result.attributes[2].event_index, result.attributes[3].event_index);
  EXPECT_NE(result.attributes[0].event_index, result.attributes[2].event_index);
  EXPECT_EQ(result.events[result.attributes[0].event_index].uuid, "e1");
  EXPECT_EQ(result.events[result.attributes[2].event_index].id, "7");
  EXPECT_EQ(result.events[0].source, "search.json");
  // An attributes search keeps an object attribute's relation but does not name the object.
  EXPECT_EQ(result.attributes[1].object_relation, "domain");
  EXPECT_EQ(result.attributes[1].object_name, "");

  EXPECT_EQ(result.rejected_attributes, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(StartsWith(result.errors[0], "search.json: ")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "a5-no-event")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "event_id")) << result.errors[0];
}

TEST(MispLoaderRestSearchTest, EmptyResultsLoadNothing) {
  for (std::string_view json : {R"([])", R"({"response": []})", R"({"Attribute": []})",
                                R"({"response": {"Attribute": []}})"}) {
    SCOPED_TRACE(json);
    LoadResult result;
    absl::Status status = ParseMispDocument(json, "empty.json", result);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_TRUE(result.events.empty());
    EXPECT_TRUE(result.errors.empty());
    EXPECT_EQ(result.files_read, 1u);
  }
}

// ---------------------------------------------------------------------------------------
// Field spellings that differ between MISP versions.

TEST(MispLoaderFieldTest, AcceptsStringAndNumberForms) {
  constexpr std::string_view kJson = R"({"Event": {
    "uuid": "e-forms", "id": 42, "published": "1", "threat_level_id": 2, "analysis": "1",
    "timestamp": 1700000000, "Orgc": {"name": "Example Org"},
    "Attribute": [
      {"uuid": "string-one", "type": "ip-dst", "value": "192.0.2.1", "to_ids": "1",
       "timestamp": "1700000001", "deleted": "0"},
      {"uuid": "string-zero", "type": "ip-dst", "value": "192.0.2.2", "to_ids": "0",
       "deleted": true},
      {"uuid": "integer-one", "type": "ip-dst", "value": "192.0.2.3", "to_ids": 1,
       "timestamp": 1700000003},
      {"uuid": "boolean-false", "type": "ip-dst", "value": "192.0.2.4", "to_ids": false,
       "comment": null, "category": null}
    ]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "forms.json", result);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(result.errors.empty()) << JoinErrors(result);

  ASSERT_EQ(result.events.size(), 1u);
  const Event& event = result.events[0];
  EXPECT_EQ(event.id, "42");
  EXPECT_TRUE(event.published);
  EXPECT_EQ(event.threat_level_id, 2);
  EXPECT_EQ(event.analysis, 1);
  EXPECT_EQ(event.timestamp, 1700000000);
  EXPECT_EQ(event.org, "Example Org");

  ASSERT_EQ(result.attributes.size(), 4u);
  EXPECT_TRUE(result.attributes[0].to_ids);
  EXPECT_EQ(result.attributes[0].timestamp, 1700000001);
  EXPECT_FALSE(result.attributes[0].deleted);
  EXPECT_FALSE(result.attributes[1].to_ids);
  EXPECT_TRUE(result.attributes[1].deleted);
  EXPECT_TRUE(result.attributes[2].to_ids);
  EXPECT_EQ(result.attributes[2].timestamp, 1700000003);
  // "deleted" is absent here, which reads as false.
  EXPECT_FALSE(result.attributes[2].deleted);
  EXPECT_FALSE(result.attributes[3].to_ids);
  EXPECT_EQ(result.attributes[3].comment, "");
}

TEST(MispLoaderFieldTest, EventWithoutAttributes) {
  LoadResult result;
  absl::Status status = ParseMispDocument(R"({"Event": {"uuid": "e-empty", "info": "none"}})",
                                          "empty-event.json", result);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(result.events.size(), 1u);
  EXPECT_TRUE(result.attributes.empty());
  EXPECT_TRUE(result.errors.empty()) << JoinErrors(result);
}

TEST(MispLoaderFieldTest, InvalidEventFieldKeepsEvent) {
  constexpr std::string_view kJson = R"({"Event": {"uuid": "e-bad-level",
    "threat_level_id": "high", "info": "still loads",
    "Attribute": [{"uuid": "a-ok", "type": "domain", "value": "ok.example"}]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "level.json", result);
  ASSERT_TRUE(status.ok()) << status;

  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].threat_level_id, 0);
  EXPECT_EQ(result.events[0].info, "still loads");
  EXPECT_EQ(result.attributes.size(), 1u);
  EXPECT_EQ(result.rejected_attributes, 0u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], "level.json")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "e-bad-level")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "threat_level_id")) << result.errors[0];
}

TEST(MispLoaderFieldTest, DeletedObjectMarksAttributes) {
  constexpr std::string_view kJson = R"({"Event": {"uuid": "e-objects", "Object": [
    {"name": "ip-port", "deleted": true, "Attribute": [
      {"uuid": "o1-ip", "type": "ip-dst", "value": "192.0.2.9", "object_relation": "ip"}]},
    {"uuid": "o2-unnamed", "Attribute": [
      {"uuid": "o2-a", "type": "port", "value": "80", "object_relation": "dst-port"},
      {"uuid": "o2-b", "type": "ip-dst", "value": "192.0.2.10", "object_relation": "ip"}]}
  ]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "objects.json", result);
  ASSERT_TRUE(status.ok()) << status;

  ASSERT_EQ(result.attributes.size(), 1u);
  EXPECT_EQ(result.attributes[0].object_name, "ip-port");
  EXPECT_TRUE(result.attributes[0].deleted);

  // The second object has no name, so neither of its attributes is loaded.
  EXPECT_EQ(result.rejected_attributes, 2u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], "o2-unnamed")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "missing name")) << result.errors[0];
}

// ---------------------------------------------------------------------------------------
// Malformed documents.

TEST(MispLoaderErrorTest, TruncatedJson) {
  constexpr std::string_view kJson =
      R"({"Event": {"uuid": "e-cut", "Attribute": [{"uuid": "a1", "type": "domain", "value": "exa)";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "feed/truncated.json", result);

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(StartsWith(MessageOf(status), "feed/truncated.json: invalid JSON: "))
      << MessageOf(status);
  EXPECT_FALSE(Contains(MessageOf(status), "\n")) << MessageOf(status);
  EXPECT_TRUE(result.events.empty());
  EXPECT_TRUE(result.attributes.empty());
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.files_read, 0u);
}

TEST(MispLoaderErrorTest, HtmlErrorPage) {
  constexpr std::string_view kHtml =
      "<html>\n<head><title>502 Bad Gateway</title></head>\n"
      "<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n";
  LoadResult result;
  absl::Status status = ParseMispDocument(kHtml, "misp-response.json", result);

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(StartsWith(MessageOf(status), "misp-response.json: invalid JSON: "))
      << MessageOf(status);
  EXPECT_FALSE(Contains(MessageOf(status), "\n")) << MessageOf(status);
  EXPECT_TRUE(result.events.empty());
}

TEST(MispLoaderErrorTest, UnknownShapes) {
  for (std::string_view json :
       {R"({})", R"({"name": "Not Found", "url": "/events"})", R"("just a string")",
        R"({"Event": []})", R"({"response": "none"})", R"({"Attribute": {}})"}) {
    SCOPED_TRACE(json);
    LoadResult result;
    absl::Status status = ParseMispDocument(json, "odd.json", result);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(StartsWith(MessageOf(status), "odd.json: not a MISP document"))
        << MessageOf(status);
    EXPECT_TRUE(result.events.empty());
    EXPECT_TRUE(result.errors.empty());
    EXPECT_EQ(result.files_read, 0u);
  }
}

TEST(MispLoaderErrorTest, NumericValueRejected) {
  constexpr std::string_view kJson = R"({"Event": {"uuid": "e-num", "Attribute": [
    {"uuid": "5f0c0000-0000-4000-8000-000000000001", "type": "port", "value": 443},
    {"uuid": "5f0c0000-0000-4000-8000-000000000002", "type": "domain", "value": "ok.example"}
  ]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "events/number.json", result);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(result.events.size(), 1u);
  ASSERT_EQ(result.attributes.size(), 1u);
  EXPECT_EQ(result.attributes[0].value, "ok.example");
  EXPECT_EQ(result.rejected_attributes, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  const std::string& error = result.errors[0];
  EXPECT_TRUE(StartsWith(error, "events/number.json: ")) << error;
  EXPECT_TRUE(Contains(error, "5f0c0000-0000-4000-8000-000000000001")) << error;
  EXPECT_TRUE(Contains(error, "invalid value")) << error;
  EXPECT_TRUE(Contains(error, "443")) << error;
}

TEST(MispLoaderErrorTest, MissingTypeRejected) {
  constexpr std::string_view kJson = R"({"Event": {"uuid": "e-type", "Attribute": [
    {"uuid": "5f0c0000-0000-4000-8000-00000000000a", "value": "no-type.example"},
    {"uuid": "5f0c0000-0000-4000-8000-00000000000b", "type": "domain", "value": "ok.example"}
  ]}})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "events/no-type.json", result);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(result.attributes.size(), 1u);
  EXPECT_EQ(result.rejected_attributes, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  const std::string& error = result.errors[0];
  EXPECT_TRUE(Contains(error, "events/no-type.json")) << error;
  EXPECT_TRUE(Contains(error, "5f0c0000-0000-4000-8000-00000000000a")) << error;
  EXPECT_TRUE(Contains(error, "missing type")) << error;
}

TEST(MispLoaderErrorTest, MissingUuidNamesIndex) {
  constexpr std::string_view kJson = R"({"response": [{"Event": {"uuid": "e-uuid",
    "Attribute": [
      {"uuid": "a-ok", "type": "domain", "value": "ok.example"},
      {"type": "domain", "value": "no-uuid.example"},
      "not an object"
    ]}}]})";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "uuid.json", result);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(result.attributes.size(), 1u);
  EXPECT_EQ(result.rejected_attributes, 2u);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_TRUE(Contains(result.errors[0], "response[0].Event.Attribute[1]")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "missing uuid")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[1], "response[0].Event.Attribute[2]")) << result.errors[1];
}

TEST(MispLoaderErrorTest, ListItemWithoutEvent) {
  constexpr std::string_view kJson = R"([{"Event": {"uuid": "e-good"}}, {"Attribute": []}, 5])";
  LoadResult result;
  absl::Status status = ParseMispDocument(kJson, "list.json", result);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(result.events.size(), 1u);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_TRUE(StartsWith(result.errors[0], "list.json: [1]: missing Event")) << result.errors[0];
  EXPECT_TRUE(StartsWith(result.errors[1], "list.json: [2]: ")) << result.errors[1];
}

TEST(MispLoaderErrorTest, ErrorLineStaysShort) {
  // A 500-byte uuid with line breaks, on an attribute whose value is an object.
  // JSON escapes turn into real line breaks in the parsed uuid.
  std::string escaped_uuid = R"(line\none\r\n)" + std::string(490, 'u');
  std::string json = fmt::format(
      R"({{"Event": {{"Attribute": [{{"uuid": "{}", "type": "domain", "value": {{"x": 1}}}}]}}}})",
      escaped_uuid);
  LoadResult result;
  absl::Status status = ParseMispDocument(json, "long.json", result);
  ASSERT_TRUE(status.ok()) << status;

  EXPECT_EQ(result.rejected_attributes, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  const std::string& error = result.errors[0];
  EXPECT_FALSE(Contains(error, "\n")) << error;
  EXPECT_FALSE(Contains(error, "\r")) << error;
  EXPECT_LT(error.size(), 200u) << error;
  EXPECT_TRUE(Contains(error, "line\\none")) << error;
  EXPECT_TRUE(Contains(error, "...")) << error;
}

// ---------------------------------------------------------------------------------------
// Feed directories and paths built in a scratch directory.

TEST(MispLoaderPathTest, ManifestNamesMissingFile) {
  ScratchDir dir;
  constexpr std::string_view kPresent = "11111111-1111-4111-8111-111111111111";
  constexpr std::string_view kAbsent = "22222222-2222-4222-8222-222222222222";
  dir.WriteFile("manifest.json",
                fmt::format(R"({{"{}": {{"info": "present"}}, "{}": {{"info": "absent"}}}})",
                            kPresent, kAbsent));
  dir.WriteFile(fmt::format("{}.json", kPresent), SmallFeedEvent(kPresent, "present.example"));

  absl::StatusOr<LoadResult> result = LoadMispPath(dir.path().string());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->events.size(), 1u);
  EXPECT_EQ(result->attributes.size(), 1u);
  EXPECT_EQ(result->files_read, 1u);
  ASSERT_EQ(result->errors.size(), 1u);
  const std::string& error = result->errors[0];
  EXPECT_TRUE(Contains(error, fmt::format("{}.json", kAbsent))) << error;
  EXPECT_TRUE(Contains(error, "No such file or directory")) << error;
}

TEST(MispLoaderPathTest, BrokenEventFileSkipped) {
  ScratchDir dir;
  constexpr std::string_view kGood = "33333333-3333-4333-8333-333333333333";
  constexpr std::string_view kBroken = "44444444-4444-4444-8444-444444444444";
  dir.WriteFile("manifest.json", fmt::format(R"({{"{}": {{}}, "{}": {{}}}})", kBroken, kGood));
  dir.WriteFile(fmt::format("{}.json", kBroken), R"({"Event": {"uuid": ")");
  dir.WriteFile(fmt::format("{}.json", kGood), SmallFeedEvent(kGood, "good.example"));

  absl::StatusOr<LoadResult> result = LoadMispPath(dir.path().string());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 1u);
  EXPECT_EQ(result->events[0].uuid, kGood);
  ASSERT_EQ(result->errors.size(), 1u);
  const std::string& error = result->errors[0];
  EXPECT_TRUE(Contains(error, fmt::format("{}.json: invalid JSON: ", kBroken))) << error;
}

TEST(MispLoaderPathTest, ManifestNotAnObject) {
  ScratchDir dir;
  dir.WriteFile("manifest.json", R"(["11111111-1111-4111-8111-111111111111"])");

  absl::StatusOr<LoadResult> result = LoadMispPath(dir.path().string());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(MessageOf(result.status()), "manifest.json")) << result.status();
  EXPECT_TRUE(Contains(MessageOf(result.status()), "found an array")) << result.status();
}

TEST(MispLoaderPathTest, ManifestKeyOutsideDirectory) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "feed");
  // The key would name ../outside.json, a valid event file next to the feed directory.
  dir.WriteFile("outside.json", SmallFeedEvent("outside", "outside.example"));
  dir.WriteFile("feed/manifest.json", R"({"../outside": {}})");

  absl::StatusOr<LoadResult> result = LoadMispPath((dir.path() / "feed").string());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->events.empty());
  ASSERT_EQ(result->errors.size(), 1u);
  EXPECT_TRUE(Contains(result->errors[0], "invalid event uuid")) << result->errors[0];
}

TEST(MispLoaderPathTest, DirectoryWithoutManifest) {
  ScratchDir dir;
  absl::StatusOr<LoadResult> result = LoadMispPath(dir.path().string());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(MessageOf(result.status()), "manifest.json")) << result.status();
}

TEST(MispLoaderPathTest, MissingPath) {
  ScratchDir dir;
  std::string path = (dir.path() / "absent.json").string();
  absl::StatusOr<LoadResult> result = LoadMispPath(path);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(MessageOf(result.status()), path)) << result.status();
}

TEST(MispLoaderPathTest, BrokenSingleFile) {
  ScratchDir dir;
  dir.WriteFile("broken.json", "{\"Event\": ");
  absl::StatusOr<LoadResult> result = LoadMispPath((dir.path() / "broken.json").string());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(MessageOf(result.status()), "broken.json: invalid JSON: "))
      << result.status();
}

// ---------------------------------------------------------------------------------------
// Size.

// A distinct address in 10.0.0.0/8 for each attribute of the generated event.
std::string GeneratedAddress(uint32_t index) {
  return fmt::format("10.{}.{}.{}", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff);
}

TEST(MispLoaderSizeTest, TenMegabyteEvent) {
  constexpr size_t kMinimumBytes = 10 * 1024 * 1024;
  std::string json = R"({"Event": {"uuid": "e-large", "info": "generated", "Attribute": [)";
  uint32_t count = 0;
  while (json.size() < kMinimumBytes) {
    if (count > 0) {
      json += ",\n";
    }
    fmt::format_to(std::back_inserter(json),
                   R"({{"uuid": "00000000-0000-4000-8000-{:012x}", "type": "ip-dst", )"
                   R"("category": "Network activity", "to_ids": true, )"
                   R"("timestamp": "1700000000", "comment": "generated attribute", )"
                   R"("value": "{}"}})",
                   count, GeneratedAddress(count));
    ++count;
  }
  json += "]}}";

  LoadResult result;
  absl::Status status = ParseMispDocument(json, "large.json", result);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.events.size(), 1u);
  ASSERT_EQ(result.attributes.size(), count);
  const Attribute& last = result.attributes.back();
  uint32_t last_index = count - 1;
  EXPECT_EQ(last.value, GeneratedAddress(last_index));
  EXPECT_EQ(last.timestamp, 1700000000);
}

// Two real event exports loaded as two sources: 26 + 155 attributes (in objects) in the
// STIX test event and 111 + 17 in the FALLCHILL event, counted in the files themselves.
TEST(MispLoaderPathsTest, MergesSourcesInOrder) {
  const std::string stix = (MispDataDir() / "events/misp-stixtest-all-types.json").string();
  const std::string fallchill =
      (MispDataDir() / "events/circl-osint-fallchill-hidden-cobra.json").string();
  absl::StatusOr<LoadResult> result = LoadMispPaths({stix, fallchill});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 2u);
  EXPECT_EQ(result->events[0].uuid, "5abb8534-ba9c-48cd-bb63-02480a00020f");
  EXPECT_EQ(result->events[1].uuid, "5a0d5bf4-99c8-4f15-9879-22b1950d210f");
  EXPECT_EQ(result->events[0].source, stix);
  EXPECT_EQ(result->events[1].source, fallchill);
  ASSERT_EQ(result->attributes.size(), 26u + 155u + 111u + 17u);
  EXPECT_EQ(result->attributes.front().event_index, 0u);
  EXPECT_EQ(result->attributes.back().event_index, 1u);
}

TEST(MispLoaderPathsTest, SameSourceTwiceKeepsBoth) {
  const std::string stix = (MispDataDir() / "events/misp-stixtest-all-types.json").string();
  absl::StatusOr<LoadResult> result = LoadMispPaths({stix, stix});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 2u);
  EXPECT_EQ(result->attributes.size(), 2u * (26u + 155u));
}

TEST(MispLoaderPathsTest, MissingSourceFails) {
  const std::string stix = (MispDataDir() / "events/misp-stixtest-all-types.json").string();
  const std::string missing = (MispDataDir() / "no-such-event.json").string();
  absl::StatusOr<LoadResult> result = LoadMispPaths({stix, missing});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(MessageOf(result.status()), "no-such-event.json"))
      << result.status();
}

}  // namespace
}  // namespace sensor::misp

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctrlplane/warninglist/warninglist_index.h"
#include "ctrlplane/warninglist/warninglist_loader.h"
#include "fmt/format.h"

namespace sensor::ctl {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The tests/data directory: $SENSOR_TEST_DATA, as meson sets it, or else found from this
// file's own path (tests/ctrlplane/warninglist/warninglist_test.cc).
fs::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') {
    return from_environment;
  }
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

const std::vector<size_t> kNoHits;
const std::vector<std::string> kNoStrings;

fs::path RealListsRoot() { return TestDataDir() / "misp" / "warninglists"; }

std::string MessageOf(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// A warninglists folder under the GoogleTest temporary directory, removed when the test
// ends.
class ListsFolder {
 public:
  ListsFolder() {
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::path(testing::TempDir()) /
            fmt::format("warninglist_test_{}_{}", test->name(), getpid());
    fs::remove_all(root_);
    fs::create_directories(root_ / "lists");
  }
  ~ListsFolder() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  ListsFolder(const ListsFolder&) = delete;
  ListsFolder& operator=(const ListsFolder&) = delete;

  const fs::path& root() const { return root_; }

  // Writes lists/<folder>/list.json.
  void Write(std::string_view folder, std::string_view json) const {
    fs::create_directories(root_ / "lists" / folder);
    std::ofstream file(root_ / "lists" / folder / "list.json", std::ios::binary);
    file << json;
  }

 private:
  fs::path root_;
};

std::vector<std::string> Folders(const WarninglistLoadResult& result) {
  std::vector<std::string> folders;
  for (const Warninglist& list : result.lists) {
    folders.push_back(list.folder);
  }
  return folders;
}

// Builds an index of the real test lists, with `disabled` lists switched off.
WarninglistIndex RealIndex(std::vector<std::string> disabled = {}) {
  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(RealListsRoot());
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  std::vector<std::string> errors;
  WarninglistOptions options;
  options.disabled = std::move(disabled);
  absl::StatusOr<WarninglistIndex> index =
      WarninglistIndex::Build(std::move(loaded->lists), options, errors);
  EXPECT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(errors, kNoStrings);
  return *std::move(index);
}

// Names of the list.json "name" fields of the real test lists.
constexpr std::string_view kCloudflare = "List of known Cloudflare IP ranges";
constexpr std::string_view kFindIp =
    "List of known hostname used for querying your source IP. This can be used as exclusion "
    "for your Passive DNS lookup.";
constexpr std::string_view kMalwareAnalysis =
    "List of known domains used by automated malware analysis services & security vendors";
constexpr std::string_view kRfc6761 = "List of RFC 6761 Special-Use Domain Names";

TEST(WarninglistLoaderTest, LoadsRealLists) {
  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(RealListsRoot());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->errors, kNoStrings);
  ASSERT_THAT(Folders(*loaded),
              ElementsAre("automated-malware-analysis", "cloudflare", "findip-host", "rfc6761"));

  const Warninglist& malware_analysis = loaded->lists[0];
  EXPECT_EQ(malware_analysis.name, kMalwareAnalysis);
  EXPECT_EQ(malware_analysis.type, WarninglistType::kSubstring);
  EXPECT_EQ(malware_analysis.version, 5);
  EXPECT_EQ(malware_analysis.entries.size(), 26u);
  EXPECT_EQ(malware_analysis.entries.front(), "akana.mobiseclab.org");
  EXPECT_THAT(malware_analysis.matching_attributes,
              ElementsAre("domain", "hostname", "domain|ip", "url"));

  const Warninglist& cloudflare = loaded->lists[1];
  EXPECT_EQ(cloudflare.name, kCloudflare);
  EXPECT_EQ(cloudflare.type, WarninglistType::kCidr);
  EXPECT_EQ(cloudflare.version, 20260811);
  EXPECT_EQ(cloudflare.entries.size(), 22u);  // 15 IPv4 and 7 IPv6 blocks.
  EXPECT_EQ(cloudflare.description,
            "List of known Cloudflare IP ranges (https://www.cloudflare.com/ips/)");
  EXPECT_THAT(cloudflare.matching_attributes,
              ElementsAre("ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port"));
  EXPECT_THAT(cloudflare.source, HasSubstr("cloudflare/list.json"));

  const Warninglist& find_ip = loaded->lists[2];
  EXPECT_EQ(find_ip.name, kFindIp);
  EXPECT_EQ(find_ip.type, WarninglistType::kHostname);
  EXPECT_EQ(find_ip.version, 8);
  EXPECT_EQ(find_ip.entries.size(), 24u);

  const Warninglist& rfc6761 = loaded->lists[3];
  EXPECT_EQ(rfc6761.name, kRfc6761);
  EXPECT_EQ(rfc6761.type, WarninglistType::kString);
  EXPECT_EQ(rfc6761.version, 2);
  EXPECT_EQ(rfc6761.entries.size(), 21u);
}

TEST(WarninglistLoaderTest, BrokenListsAreReportedAndOthersLoad) {
  ListsFolder folder;
  folder.Write("good", R"({"name": "Good", "type": "string", "version": 1, "list": ["a"]})");
  folder.Write("broken-json", R"({"name": "Broken", "list": ["a", )");
  folder.Write("bad-type", R"({"name": "Bad type", "type": "glob", "list": ["a"]})");
  folder.Write("no-name", R"({"type": "string", "list": ["a"]})");
  folder.Write("no-list", R"({"name": "No list", "type": "string"})");
  folder.Write("number-entry", R"({"name": "Number entry", "list": ["a", 5]})");
  folder.Write("same-name", R"({"name": "Good", "type": "string", "list": ["b"]})");
  folder.Write("not-object", R"(["a"])");
  fs::create_directories(folder.root() / "lists" / "no-file");

  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(folder.root());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(Folders(*loaded), ElementsAre("good"));
  ASSERT_EQ(loaded->errors.size(), 8u);
  // Errors come in folder order, each naming its file.
  EXPECT_THAT(loaded->errors[0], HasSubstr("bad-type/list.json: unknown type \"glob\""));
  EXPECT_THAT(loaded->errors[1], HasSubstr("broken-json/list.json: invalid JSON"));
  EXPECT_THAT(loaded->errors[2], HasSubstr("no-file/list.json: failed to read"));
  EXPECT_THAT(loaded->errors[3], HasSubstr("no-list/list.json: \"list\" is missing"));
  EXPECT_THAT(loaded->errors[4], HasSubstr("no-name/list.json: \"name\" is missing or empty"));
  EXPECT_THAT(loaded->errors[5], HasSubstr("not-object/list.json: the document is not a JSON"));
  EXPECT_THAT(loaded->errors[6], HasSubstr("number-entry/list.json: \"list\" entry 1 is not"));
  EXPECT_THAT(loaded->errors[7], HasSubstr("same-name/list.json: skipped: another list"));
}

TEST(WarninglistLoaderTest, AcceptsMispForms) {
  // "list" as an object of entry to comment, "type" as an array, "version" as a string.
  absl::StatusOr<Warninglist> list = ParseWarninglist(
      R"({"name": "Commented", "type": ["hostname"], "version": "20240101",
          "list": {"example.org": "a comment", "": "empty entries are dropped"}})",
      "commented.json");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->type, WarninglistType::kHostname);
  EXPECT_EQ(list->version, 20240101);
  EXPECT_THAT(list->entries, ElementsAre("example.org"));
  EXPECT_EQ(list->matching_attributes, kNoStrings);

  // Without "type" and "version", MISP takes string and 1.
  list = ParseWarninglist(R"({"name": "Defaults", "list": ["x", ""]})", "defaults.json");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->type, WarninglistType::kString);
  EXPECT_EQ(list->version, 1);
  EXPECT_THAT(list->entries, ElementsAre("x"));

  list = ParseWarninglist(R"({"name": "Bad version", "version": "v2", "list": []})", "v.json");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(MessageOf(list.status()), HasSubstr("v.json: \"version\" must be"));
}

TEST(WarninglistLoaderTest, MissingFolderFails) {
  absl::StatusOr<WarninglistLoadResult> loaded =
      LoadWarninglists(TestDataDir() / "no-such-warninglists");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(MessageOf(loaded.status()), HasSubstr("no-such-warninglists/lists"));
}

TEST(WarninglistIndexTest, CidrListScreensAddressesAndNarrowerBlocks) {
  WarninglistIndex index = RealIndex();
  const auto cloudflare = index.FindList("cloudflare");
  ASSERT_TRUE(cloudflare.has_value());
  const std::vector<size_t> hit = {*cloudflare};

  // Inside entry "104.16.0.0/13".
  EXPECT_EQ(index.Screen("ip-dst", "104.16.0.1"), hit);
  EXPECT_EQ(index.Screen("ip-dst", "104.23.255.255"), hit);
  // The block itself, and narrower blocks inside it.
  EXPECT_EQ(index.Screen("ip-src", "104.16.0.0/13"), hit);
  EXPECT_EQ(index.Screen("ip-src", "104.17.0.0/16"), hit);
  // Entry "104.24.0.0/14": a /24 inside it.
  EXPECT_EQ(index.Screen("ip-dst", "104.24.1.0/24"), hit);
  // A broader block that contains a listed one is not screened.
  EXPECT_EQ(index.Screen("ip-dst", "104.16.0.0/12"), kNoHits);
  EXPECT_EQ(index.Screen("ip-dst", "104.0.0.0/8"), kNoHits);
  // Just outside "104.16.0.0/13" and "104.24.0.0/14".
  EXPECT_EQ(index.Screen("ip-dst", "104.15.255.255"), kNoHits);
  EXPECT_EQ(index.Screen("ip-dst", "104.28.0.0"), kNoHits);
  EXPECT_EQ(index.Screen("ip-dst", "8.8.8.8"), kNoHits);
  // Entry "2606:4700::/32".
  EXPECT_EQ(index.Screen("ip-dst", "2606:4700::6810:84e5"), hit);
  EXPECT_EQ(index.Screen("ip-dst", "2606:4700:10::/48"), hit);
  EXPECT_EQ(index.Screen("ip-dst", "2606::/16"), kNoHits);
  // Entry "2a06:98c0::/29": 2a06:98c7:: is its last /32.
  EXPECT_EQ(index.Screen("ip-dst", "2a06:98c7::1"), hit);
  EXPECT_EQ(index.Screen("ip-dst", "2a06:98c8::1"), kNoHits);
  // IPv4-mapped IPv6 counts as IPv4.
  EXPECT_EQ(index.Screen("ip-dst", "::ffff:104.16.0.1"), hit);
  // Composite types: the address part.
  EXPECT_EQ(index.Screen("ip-dst|port", "104.16.0.1|443"), hit);
  EXPECT_EQ(index.Screen("domain|ip", "www.example.com|104.16.0.1"), hit);
  // "url" is not among the list's matching_attributes.
  EXPECT_EQ(index.Screen("url", "http://104.16.0.1/"), kNoHits);
  // Not an address.
  EXPECT_EQ(index.Screen("ip-dst", "104.16.0.1/33"), kNoHits);
  EXPECT_EQ(index.Screen("ip-dst", "not an address"), kNoHits);
}

TEST(WarninglistIndexTest, HostnameListScreensNameAndSubdomains) {
  WarninglistIndex index = RealIndex();
  const auto find_ip = index.FindList("findip-host");
  ASSERT_TRUE(find_ip.has_value());
  const std::vector<size_t> hit = {*find_ip};

  // Entry "api.ipify.org".
  EXPECT_EQ(index.Screen("domain", "api.ipify.org"), hit);
  EXPECT_EQ(index.Screen("hostname", "API.IPify.org."), hit);
  EXPECT_EQ(index.Screen("hostname", "x.api.ipify.org"), hit);
  EXPECT_EQ(index.Screen("domain", "ipify.org"), kNoHits) << "a parent is not listed";
  EXPECT_EQ(index.Screen("domain", "myapi.ipify.org"), kNoHits);
  // Entry "whoami.akamai.net", in the domain part of domain|ip.
  EXPECT_EQ(index.Screen("domain|ip", "whoami.akamai.net|192.0.2.1"), hit);
  // "url" is not among the list's matching_attributes.
  EXPECT_EQ(index.Screen("url", "https://api.ipify.org/?format=json"), kNoHits);
}

TEST(WarninglistIndexTest, SubstringListIgnoresCase) {
  WarninglistIndex index = RealIndex();
  const auto malware_analysis = index.FindList("automated-malware-analysis");
  ASSERT_TRUE(malware_analysis.has_value());
  const std::vector<size_t> hit = {*malware_analysis};

  // Entry "virustotal.com".
  EXPECT_EQ(index.Screen("domain", "www.virustotal.com"), hit);
  EXPECT_EQ(index.Screen("url", "https://www.VirusTotal.com/gui/file/abc"), hit);
  // A substring hits wherever it occurs, as in MISP.
  EXPECT_EQ(index.Screen("domain", "virustotal.com.example"), hit);
  // Entry "tria.ge".
  EXPECT_EQ(index.Screen("hostname", "tria.ge"), hit);
  EXPECT_EQ(index.Screen("domain", "example.info"), kNoHits);
  // "ip-dst" is not among the list's matching_attributes.
  EXPECT_EQ(index.Screen("ip-dst", "virustotal.com"), kNoHits);
}

// In Hyperscan 5.4.0's literal mode, a database built from this pair fails with
// HS_UNKNOWN_ERROR to scan a value containing "p". Screening must still find both entries.
TEST(WarninglistIndexTest, SubstringPairScreensWithoutFailures) {
  ListsFolder folder;
  folder.Write("short-and-long", R"({
    "name": "Short and long", "type": "substring",
    "list": ["p", "urlclab.3333333333333333333333333333333333333333333333333", "a\u0000b"]})");
  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(folder.root());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<std::string> errors;
  absl::StatusOr<WarninglistIndex> index =
      WarninglistIndex::Build(std::move(loaded->lists), {}, errors);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(errors, kNoStrings);
  const std::vector<size_t> hit = {0};

  EXPECT_EQ(index->Screen("domain", "www.example.com"), hit);
  EXPECT_EQ(index->Screen("domain", "URLCLAB.3333333333333333333333333333333333333333333333333"),
            hit);
  EXPECT_EQ(index->Screen("domain", "urlclab.org"), kNoHits);
  EXPECT_EQ(index->Screen("text", std::string_view("xa\0bx", 4)), hit) << "NUL byte";
  EXPECT_EQ(index->scan_failures(), 0u);
}

TEST(WarninglistIndexTest, StringListIsExactIgnoringCase) {
  WarninglistIndex index = RealIndex();
  const auto rfc6761 = index.FindList("rfc6761");
  ASSERT_TRUE(rfc6761.has_value());
  const std::vector<size_t> hit = {*rfc6761};

  // Entries "example.com" and "10.in-addr.arpa".
  EXPECT_EQ(index.Screen("domain", "example.com"), hit);
  EXPECT_EQ(index.Screen("domain", "EXAMPLE.COM"), hit);
  EXPECT_EQ(index.Screen("hostname", "10.in-addr.arpa"), hit);
  EXPECT_EQ(index.Screen("domain", "www.example.com"), kNoHits) << "string is exact";
  EXPECT_EQ(index.Screen("domain", "example.co"), kNoHits);
}

TEST(WarninglistIndexTest, ExplainNamesListsAndCountsNothing) {
  WarninglistIndex index = RealIndex();
  EXPECT_THAT(index.Explain("domain|ip", "example.com|104.16.0.1"),
              ElementsAre(kCloudflare, kRfc6761));
  EXPECT_EQ(index.Explain("domain", "www.circl.lu"), kNoStrings);
  for (const WarninglistInfo& list : index.lists()) {
    EXPECT_EQ(list.hits, 0u) << list.name;
  }
}

TEST(WarninglistIndexTest, HitCountersCountScreenCalls) {
  WarninglistIndex index = RealIndex();
  index.Screen("ip-dst", "104.16.0.1");
  index.Screen("ip-dst", "104.16.0.2");
  index.Screen("domain", "example.com");
  index.Screen("ip-dst", "8.8.8.8");
  const auto cloudflare = index.FindList("cloudflare");
  const auto rfc6761 = index.FindList("rfc6761");
  const auto find_ip = index.FindList("findip-host");
  ASSERT_TRUE(cloudflare.has_value());
  ASSERT_TRUE(rfc6761.has_value());
  ASSERT_TRUE(find_ip.has_value());
  EXPECT_EQ(index.lists()[*cloudflare].hits, 2u);
  EXPECT_EQ(index.lists()[*rfc6761].hits, 1u);
  EXPECT_EQ(index.lists()[*find_ip].hits, 0u);
}

TEST(WarninglistIndexTest, DisabledListsDoNotHit) {
  WarninglistIndex index = RealIndex({"cloudflare", std::string(kRfc6761)});
  EXPECT_FALSE(index.lists()[*index.FindList("cloudflare")].enabled);
  EXPECT_FALSE(index.lists()[*index.FindList("rfc6761")].enabled);
  EXPECT_EQ(index.Screen("ip-dst", "104.16.0.1"), kNoHits);
  EXPECT_EQ(index.Screen("domain", "example.com"), kNoHits);
  EXPECT_EQ(index.lists()[*index.FindList("cloudflare")].hits, 0u);

  ASSERT_TRUE(index.SetEnabled(kCloudflare, true).ok());
  EXPECT_THAT(index.Explain("ip-dst", "104.16.0.1"), ElementsAre(kCloudflare));

  const absl::Status status = index.SetEnabled("no-such-list", false);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(MessageOf(status), HasSubstr("\"no-such-list\""));
}

TEST(WarninglistIndexTest, UnknownDisabledNameIsReported) {
  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(RealListsRoot());
  ASSERT_TRUE(loaded.ok());
  WarninglistOptions options;
  options.disabled = {"cloudfare"};
  std::vector<std::string> errors;
  absl::StatusOr<WarninglistIndex> index =
      WarninglistIndex::Build(std::move(loaded->lists), options, errors);
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("\"cloudfare\""));
}

// A regex list in upstream form, with patterns Hyperscan rejects, next to lists with
// invalid entries, a broken list.json and a list without matching_attributes.
TEST(WarninglistIndexTest, CraftedListsWithBadEntries) {
  ListsFolder folder;
  // The first two patterns are from upstream lists common-contact-emails and
  // phone_numbers.
  folder.Write("crafted-regex", R"({
    "name": "Crafted regex", "type": "regex", "version": 1, "description": "test",
    "matching_attributes": ["email-src", "phone-number"],
    "list": [
      "/^(security|noc|soc|abuse)\\@.*\\..*$/i",
      "/((?:\\+|00)44)?07700900([0-9]{3})/g",
      "/(a)\\1/",
      "/abc/x",
      "/unterminated"
    ]})");
  folder.Write("crafted-cidr", R"({
    "name": "Crafted cidr", "type": "cidr", "list": ["192.0.2.0/24", "300.1.1.1/8",
    "10.0.0.0/33", "2001:db8::/32"]})");
  folder.Write("crafted-hostname", R"({
    "name": "Crafted hostname", "type": "hostname", "list": [".example.org", "bad..name"],
    "matching_attributes": ["domain", "url", "email-src"]})");
  folder.Write("crafted-string", R"({
    "name": "Crafted string", "type": "string", "list": ["D41D8CD98F00B204E9800998ECF8427E"]})");
  folder.Write("crafted-broken", R"({"name": "Crafted broken", "list": ["a")");

  absl::StatusOr<WarninglistLoadResult> loaded = LoadWarninglists(folder.root());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->errors.size(), 1u);
  EXPECT_THAT(loaded->errors[0], HasSubstr("crafted-broken/list.json: invalid JSON"));
  ASSERT_EQ(loaded->lists.size(), 4u);

  std::vector<std::string> errors;
  absl::StatusOr<WarninglistIndex> built =
      WarninglistIndex::Build(std::move(loaded->lists), WarninglistOptions(), errors);
  ASSERT_TRUE(built.ok()) << built.status();
  WarninglistIndex& index = *built;
  ASSERT_EQ(errors.size(), 6u);
  EXPECT_THAT(errors[0], HasSubstr("\"Crafted cidr\""));
  EXPECT_THAT(errors[0], HasSubstr("entry \"300.1.1.1/8\" skipped"));
  EXPECT_THAT(errors[1], HasSubstr("entry \"10.0.0.0/33\" skipped"));
  EXPECT_THAT(errors[2], HasSubstr("\"Crafted hostname\""));
  EXPECT_THAT(errors[2], HasSubstr("entry \"bad..name\" skipped"));
  EXPECT_THAT(errors[3], HasSubstr("regex \"/abc/x\" skipped: modifier \"x\""));
  EXPECT_THAT(errors[4], HasSubstr("regex \"/unterminated\" skipped: no closing delimiter"));
  EXPECT_THAT(errors[5], HasSubstr("\"Crafted regex\""));
  EXPECT_THAT(errors[5], HasSubstr("regex \"/(a)\\\\1/\" skipped: Hyperscan cannot compile"));

  const size_t regex = *index.FindList("crafted-regex");
  const size_t cidr = *index.FindList("crafted-cidr");
  const size_t hostname = *index.FindList("crafted-hostname");
  const size_t string = *index.FindList("crafted-string");
  EXPECT_EQ(index.lists()[regex].entry_count, 2u);
  EXPECT_EQ(index.lists()[cidr].entry_count, 2u);
  EXPECT_EQ(index.lists()[hostname].entry_count, 1u);

  EXPECT_THAT(index.Screen("email-src", "Abuse@example.net"), ElementsAre(regex));
  EXPECT_EQ(index.Screen("email-src", "john@example.net"), kNoHits);
  EXPECT_THAT(index.Screen("phone-number", "+4407700900123"), ElementsAre(regex));
  EXPECT_EQ(index.Screen("email-dst", "abuse@example.net"), kNoHits) << "type not listed";

  // Without matching_attributes a list applies to every type.
  EXPECT_THAT(index.Screen("ip-dst", "192.0.2.77"), ElementsAre(cidr));
  EXPECT_THAT(index.Screen("ip-src", "2001:db8:1::/48"), ElementsAre(cidr));
  EXPECT_THAT(index.Screen("md5", "d41d8cd98f00b204e9800998ecf8427e"), ElementsAre(string));
  EXPECT_THAT(index.Screen("filename|md5", "a.exe|d41d8cd98f00b204e9800998ecf8427e"),
              ElementsAre(string));

  // ".example.org" is stored as example.org; URLs and e-mail addresses give their domain.
  EXPECT_THAT(index.Screen("domain", "example.org"), ElementsAre(hostname));
  EXPECT_THAT(index.Screen("url", "https://www.example.org/login"), ElementsAre(hostname));
  EXPECT_THAT(index.Screen("email-src", "someone@mail.example.org"), ElementsAre(hostname));
  EXPECT_EQ(index.scan_failures(), 0u);
}

TEST(WarninglistIndexTest, EmptyIndexHitsNothing) {
  std::vector<std::string> errors;
  absl::StatusOr<WarninglistIndex> index =
      WarninglistIndex::Build({}, WarninglistOptions(), errors);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->Screen("domain", "example.com"), kNoHits);
  EXPECT_EQ(errors, kNoStrings);
}

}  // namespace
}  // namespace sensor::ctl

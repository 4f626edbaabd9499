#include "ctrlplane/sinks/elasticsearch_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ctrlplane/sinks/elasticsearch_template.h"
#include "rapidjson/document.h"

namespace sensor::ctl {
namespace {

namespace fs = std::filesystem;

// A _bulk response in the shape of the examples in Elasticsearch's Bulk API reference:
// one item per action, each under its operation name, with status and error.
constexpr char kMixedResponse[] = R"({
  "took": 30, "errors": true,
  "items": [
    {"create": {"_index": "sensor-alerts-2017.05.09", "_id": "a1", "_version": 1,
                "result": "created", "status": 201, "_seq_no": 0, "_primary_term": 1}},
    {"create": {"_index": "sensor-alerts-2017.05.09", "_id": "a2", "status": 409,
                "error": {"type": "version_conflict_engine_exception",
                          "reason": "[a2]: version conflict, document already exists",
                          "index": "sensor-alerts-2017.05.09", "shard": "0"}}},
    {"create": {"_index": "sensor-alerts-2017.05.09", "_id": "a3", "status": 429,
                "error": {"type": "es_rejected_execution_exception",
                          "reason": "rejected execution of coordinating operation"}}},
    {"create": {"_index": "sensor-alerts-2017.05.09", "_id": "a4", "status": 503,
                "error": {"type": "unavailable_shards_exception",
                          "reason": "primary shard is not active"}}},
    {"create": {"_index": "sensor-alerts-2017.05.09", "_id": "a5", "status": 400,
                "error": {"type": "mapper_parsing_exception",
                          "reason": "failed to parse field [source.ip] of type [ip]",
                          "caused_by": {"type": "illegal_argument_exception",
                                        "reason": "'x' is not an IP string literal."}}}},
    {"index": {"_index": "other", "_id": "a6", "status": 200, "result": "updated"}}
  ]
})";

TEST(BulkResponseTest, PerItemStatusesAndErrors) {
  absl::StatusOr<BulkResponse> response = ParseBulkResponse(kMixedResponse);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->errors);
  ASSERT_EQ(response->items.size(), 6u);
  EXPECT_EQ(response->items[0].status, 201);
  EXPECT_EQ(response->items[0].id, "a1");
  EXPECT_EQ(response->items[0].error_type, "");
  EXPECT_EQ(response->items[1].status, 409);
  EXPECT_EQ(response->items[1].error_type, "version_conflict_engine_exception");
  EXPECT_EQ(response->items[2].status, 429);
  EXPECT_EQ(response->items[3].status, 503);
  EXPECT_EQ(response->items[4].status, 400);
  EXPECT_EQ(response->items[4].error_type, "mapper_parsing_exception");
  EXPECT_EQ(response->items[4].error_reason, "failed to parse field [source.ip] of type [ip]");
  EXPECT_EQ(response->items[5].status, 200);
  EXPECT_EQ(response->items[5].id, "a6");
}

TEST(BulkResponseTest, OutcomeOfEachItem) {
  absl::StatusOr<BulkResponse> response = ParseBulkResponse(kMixedResponse);
  ASSERT_TRUE(response.ok()) << response.status();
  const BulkItemOutcome expected[] = {
      BulkItemOutcome::kCreated, BulkItemOutcome::kAlreadyPresent, BulkItemOutcome::kRetry,
      BulkItemOutcome::kRetry,   BulkItemOutcome::kDeadLetter,     BulkItemOutcome::kCreated,
  };
  for (size_t i = 0; i < response->items.size(); ++i) {
    EXPECT_EQ(ClassifyBulkItem(response->items[i].status), expected[i]) << "item " << i;
  }
}

TEST(BulkResponseTest, StatusClassification) {
  EXPECT_EQ(ClassifyBulkItem(201), BulkItemOutcome::kCreated);
  EXPECT_EQ(ClassifyBulkItem(200), BulkItemOutcome::kCreated);
  EXPECT_EQ(ClassifyBulkItem(409), BulkItemOutcome::kAlreadyPresent);
  EXPECT_EQ(ClassifyBulkItem(429), BulkItemOutcome::kRetry);
  EXPECT_EQ(ClassifyBulkItem(500), BulkItemOutcome::kRetry);
  EXPECT_EQ(ClassifyBulkItem(502), BulkItemOutcome::kRetry);
  EXPECT_EQ(ClassifyBulkItem(400), BulkItemOutcome::kDeadLetter);
  EXPECT_EQ(ClassifyBulkItem(403), BulkItemOutcome::kDeadLetter);
  EXPECT_EQ(ClassifyBulkItem(404), BulkItemOutcome::kDeadLetter);
}

TEST(BulkResponseTest, AllCreated) {
  absl::StatusOr<BulkResponse> response = ParseBulkResponse(
      R"({"took":3,"errors":false,"items":[{"create":{"_id":"x","status":201}}]})");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->errors);
  ASSERT_EQ(response->items.size(), 1u);
  EXPECT_EQ(response->items[0].status, 201);
}

TEST(BulkResponseTest, ErrorGivenAsString) {
  absl::StatusOr<BulkResponse> response = ParseBulkResponse(
      R"({"errors":true,"items":[{"create":{"_id":"x","status":400,"error":"MapperParsing"}}]})");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->items[0].error_reason, "MapperParsing");
}

TEST(BulkResponseTest, MalformedBodiesRejected) {
  for (const char* body : {
           "",
           "<html>502 Bad Gateway</html>",
           R"({"items":[]})",
           R"({"errors":false})",
           R"({"errors":"no","items":[]})",
           R"({"errors":true,"items":[{"create":{"_id":"x"}}]})",
           R"({"errors":true,"items":[{"create":{"status":201},"index":{"status":201}}]})",
           R"({"errors":true,"items":[42]})",
       }) {
    EXPECT_EQ(ParseBulkResponse(body).status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(BulkRequestTest, CreateActionAndSource) {
  std::string body;
  AppendBulkCreate(body, "sensor-alerts-2017.05.09", "0123abcd", R"({"a":1})");
  AppendBulkCreate(body, "alerts", "id\"quoted", R"({"b":2})");
  EXPECT_EQ(body,
            "{\"create\":{\"_index\":\"sensor-alerts-2017.05.09\",\"_id\":\"0123abcd\"}}\n"
            "{\"a\":1}\n"
            "{\"create\":{\"_index\":\"alerts\",\"_id\":\"id\\\"quoted\"}}\n"
            "{\"b\":2}\n");
}

TEST(BulkRequestTest, CreateWithoutId) {
  std::string body;
  AppendBulkCreate(body, "alerts", "", "{}");
  EXPECT_EQ(body, "{\"create\":{\"_index\":\"alerts\"}}\n{}\n");
}

TEST(BulkRequestTest, GzipRoundTrip) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += R"({"create":{"_index":"a","_id":"b"}})"
            "\n";
  absl::StatusOr<std::string> compressed = GzipCompress(text);
  ASSERT_TRUE(compressed.ok()) << compressed.status();
  ASSERT_GE(compressed->size(), 18u);
  // RFC 1952 member header: ID1 0x1f, ID2 0x8b, CM 8 (deflate).
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
  EXPECT_EQ((*compressed)[2], 8);
  EXPECT_LT(compressed->size(), text.size() / 10);

  z_stream stream{};
  ASSERT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string inflated(text.size() + 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(compressed->data());
  stream.avail_in = static_cast<uInt>(compressed->size());
  stream.next_out = reinterpret_cast<Bytef*>(inflated.data());
  stream.avail_out = static_cast<uInt>(inflated.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  inflated.resize(inflated.size() - stream.avail_out);
  inflateEnd(&stream);
  EXPECT_EQ(inflated, text);
}

TEST(DocumentKeysTest, IdAndTimestamp) {
  absl::StatusOr<DocumentKeys> keys = ExtractDocumentKeys(
      R"({"@timestamp":"2017-05-09T21:07:38.364077Z","event":{"kind":"alert","id":"4f2a"}})");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->id, "4f2a");
  EXPECT_EQ(keys->timestamp, "2017-05-09T21:07:38.364077Z");
  absl::StatusOr<DocumentKeys> bare = ExtractDocumentKeys(R"({"event":{"id":7}})");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->id, "");
  EXPECT_EQ(bare->timestamp, "");
  EXPECT_FALSE(ExtractDocumentKeys("not json").ok());
  EXPECT_FALSE(ExtractDocumentKeys("[1,2]").ok());
}

TEST(IndexNameTest, DateFromTimestamp) {
  EXPECT_EQ(FormatIndexName("sensor-alerts-%Y.%m.%d", "2017-05-09T21:07:38.364077Z", 0),
            "sensor-alerts-2017.05.09");
  EXPECT_EQ(FormatIndexName("a-%Y%m%d%H", "2017-05-09T21:07:38Z", 0), "a-2017050921");
  EXPECT_EQ(FormatIndexName("alerts", "2017-05-09T21:07:38Z", 0), "alerts");
  EXPECT_EQ(FormatIndexName("p%%q-%Y", "2017-05-09T21:07:38Z", 0), "p%q-2017");
}

TEST(IndexNameTest, FallbackTime) {
  // date -u -d @1700000000: Tue Nov 14 22:13:20 UTC 2023.
  EXPECT_EQ(FormatIndexName("s-%Y.%m.%d.%H", "", 1700000000), "s-2023.11.14.22");
  EXPECT_EQ(FormatIndexName("s-%Y.%m.%d", "yesterday", 1700000000), "s-2023.11.14");
}

TEST(IndexNameTest, PatternValidation) {
  EXPECT_TRUE(ValidateIndexPattern("sensor-alerts-%Y.%m.%d").ok());
  EXPECT_TRUE(ValidateIndexPattern("logs-sensor.alerts-default").ok());
  EXPECT_TRUE(ValidateIndexPattern("a%%b").ok());
  for (const char* bad : {"", "Alerts", "alerts-%j", "alerts %Y", "-alerts", "_alerts", "a/b", "a*",
                          "a,b", "a#b", "a:b", "alerts-%"}) {
    EXPECT_EQ(ValidateIndexPattern(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ApiKeyTest, EncodesIdAndKey) {
  // Elasticsearch's create API key reference pairs id VuaCfGcBCdbkQm-e5aOx and api_key
  // ui2lp2axTNmsyakw9tvNnw; python3 -c "import base64; print(base64.b64encode(
  // b'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').decode())" gives the encoded form.
  EXPECT_EQ(ApiKeyAuthorization("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"),
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
  EXPECT_EQ(ApiKeyAuthorization("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="),
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
}

class CredentialFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "credential-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string WriteFile(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = (fs::path(root_) / name).string();
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    return path;
  }

  std::string root_;
};

TEST_F(CredentialFileTest, PrivateFileRead) {
  const std::string path = WriteFile("key", "  c2VjcmV0\n", 0600);
  absl::StatusOr<std::string> key = ReadCredentialFile(path, "Elasticsearch API key");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "c2VjcmV0");
}

TEST_F(CredentialFileTest, GroupReadableRejected) {
  const std::string path = WriteFile("key", "c2VjcmV0\n", 0640);
  absl::StatusOr<std::string> key = ReadCredentialFile(path, "Elasticsearch API key");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(key.status().message().find(path), absl::string_view::npos);
  EXPECT_NE(key.status().message().find("chmod 600"), absl::string_view::npos);
  EXPECT_NE(key.status().message().find("0640"), absl::string_view::npos);
  // The secret itself never appears in a message.
  EXPECT_EQ(key.status().message().find("c2VjcmV0"), absl::string_view::npos);
}

TEST_F(CredentialFileTest, OtherReadableRejected) {
  const std::string path = WriteFile("key", "c2VjcmV0\n", 0604);
  EXPECT_EQ(ReadCredentialFile(path, "key").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(CredentialFileTest, EmptyMissingAndMultilineRejected) {
  EXPECT_EQ(ReadCredentialFile(WriteFile("empty", " \n", 0600), "key").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadCredentialFile(WriteFile("two", "a\nb\n", 0600), "key").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadCredentialFile((fs::path(root_) / "absent").string(), "key").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CredentialFileTest, ClientRejectsOpenKeyFile) {
  ElasticsearchConnectionOptions options;
  options.url = "http://127.0.0.1:9200";
  options.api_key_file = WriteFile("key", "c2VjcmV0\n", 0644);
  absl::StatusOr<std::unique_ptr<ElasticsearchClient>> client =
      ElasticsearchClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("chmod 600"), absl::string_view::npos);
}

TEST(ClientTest, UrlChecks) {
  ElasticsearchConnectionOptions options;
  for (const char* bad : {"localhost:9200", "ftp://host/", "http://user:pw@host:9200",
                          "https://host:9200/?pretty", "not a url"}) {
    options.url = bad;
    EXPECT_EQ(ElasticsearchClient::Create(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  options.url = "https://es.example.org:9200/prefix/";
  absl::StatusOr<std::unique_ptr<ElasticsearchClient>> client =
      ElasticsearchClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->base_url(), "https://es.example.org:9200/prefix");
}

TEST(ClientTest, RefusedConnectionIsUnavailable) {
  // A bound socket that does not listen makes the kernel refuse connections to its port.
  const int reserved = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(reserved, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(reserved, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(reserved, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ElasticsearchConnectionOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  options.connect_timeout = std::chrono::milliseconds(2000);
  absl::StatusOr<std::unique_ptr<ElasticsearchClient>> client =
      ElasticsearchClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<HttpResponse> response =
      (*client)->Send("POST", "/_bulk", "{}\n", "application/x-ndjson", false);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  close(reserved);
}

TEST(TemplateTest, ShippedTemplateParsesAndMapsKeyFields) {
  rapidjson::Document document;
  const std::string_view text = ShippedIndexTemplate();
  document.Parse(text.data(), text.size());
  ASSERT_FALSE(document.HasParseError());
  const rapidjson::Value& properties = document["template"]["mappings"]["properties"];
  EXPECT_STREQ(properties["@timestamp"]["type"].GetString(), "date");
  EXPECT_STREQ(properties["source"]["properties"]["ip"]["type"].GetString(), "ip");
  EXPECT_STREQ(
      properties["destination"]["properties"]["geo"]["properties"]["location"]["type"].GetString(),
      "geo_point");
  EXPECT_STREQ(properties["event"]["properties"]["id"]["type"].GetString(), "keyword");
}

TEST(TemplateTest, PatternsAndDataStream) {
  EXPECT_EQ(IndexTemplatePattern("sensor-alerts-%Y.%m.%d"), "sensor-alerts-*");
  EXPECT_EQ(IndexTemplatePattern("logs-sensor-default"), "logs-sensor-default");
  absl::StatusOr<std::string> body =
      BuildIndexTemplate(ShippedIndexTemplate(), "alerts-%Y", /*data_stream=*/true);
  ASSERT_TRUE(body.ok()) << body.status();
  rapidjson::Document document;
  document.Parse(body->data(), body->size());
  ASSERT_FALSE(document.HasParseError());
  ASSERT_EQ(document["index_patterns"].Size(), 1u);
  EXPECT_STREQ(document["index_patterns"][0].GetString(), "alerts-*");
  EXPECT_TRUE(document["data_stream"].IsObject());
  EXPECT_FALSE(BuildIndexTemplate(ShippedIndexTemplate(), "Bad", false).ok());
}

}  // namespace
}  // namespace sensor::ctl

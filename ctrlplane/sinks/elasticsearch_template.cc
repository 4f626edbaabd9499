#include "ctrlplane/sinks/elasticsearch_template.h"

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::ctl {

std::string IndexTemplatePattern(std::string_view index_pattern) {
  const size_t percent = index_pattern.find('%');
  if (percent == std::string_view::npos) return std::string(index_pattern);
  return absl::StrCat(ToAbsl(index_pattern.substr(0, percent)), "*");
}

absl::StatusOr<std::string> BuildIndexTemplate(std::string_view template_json,
                                               std::string_view index_pattern, bool data_stream) {
  if (absl::Status status = ValidateIndexPattern(index_pattern); !status.ok()) return status;
  rapidjson::Document document;
  document.Parse(template_json.data(), template_json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return absl::InvalidArgumentError("the index template is not a JSON object");
  }
  auto& allocator = document.GetAllocator();
  const std::string pattern = IndexTemplatePattern(index_pattern);
  rapidjson::Value patterns(rapidjson::kArrayType);
  patterns.PushBack(rapidjson::Value(pattern.c_str(), allocator), allocator);
  document.RemoveMember("index_patterns");
  document.AddMember("index_patterns", patterns, allocator);
  document.RemoveMember("data_stream");
  if (data_stream) {
    document.AddMember("data_stream", rapidjson::Value(rapidjson::kObjectType), allocator);
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status InstallIndexTemplate(ElasticsearchClient& client, std::string_view name,
                                  std::string_view template_body) {
  const std::string path = absl::StrCat("/_index_template/", ToAbsl(name));
  absl::StatusOr<HttpResponse> response =
      client.Send("PUT", path, template_body, "application/json", /*gzip_encoded=*/false);
  if (!response.ok()) return response.status();
  if (response->status >= 200 && response->status < 300) return absl::OkStatus();

  std::string reason = response->body.substr(0, 500);
  rapidjson::Document error;
  error.Parse(response->body.data(), response->body.size());
  if (!error.HasParseError() && error.IsObject() && error.HasMember("error") &&
      error["error"].IsObject()) {
    const rapidjson::Value& detail = error["error"];
    reason.clear();
    if (detail.HasMember("type") && detail["type"].IsString()) {
      absl::StrAppend(&reason, detail["type"].GetString(), ": ");
    }
    if (detail.HasMember("reason") && detail["reason"].IsString()) {
      absl::StrAppend(&reason, detail["reason"].GetString());
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "PUT ", client.base_url(), path, " returned HTTP ", response->status, ": ", reason));
}

}  // namespace sensor::ctl

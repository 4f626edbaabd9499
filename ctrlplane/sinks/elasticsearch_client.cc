#include "ctrlplane/sinks/elasticsearch_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/curl_transport.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::ctl {
namespace {

// A hostile or broken server must not make the sensor buffer without bound.
constexpr size_t kMaxResponseBytes = 64u << 20;

struct ResponseBuffer {
  std::string body;
  bool too_large = false;
};

size_t OnResponseData(char* data, size_t size, size_t count, void* user) {
  auto* buffer = static_cast<ResponseBuffer*>(user);
  const size_t bytes = size * count;
  if (buffer->body.size() + bytes > kMaxResponseBytes) {
    buffer->too_large = true;
    return 0;
  }
  buffer->body.append(data, bytes);
  return bytes;
}

// Characters Elasticsearch rejects in index names, besides upper case letters.
bool ValidIndexCharacter(char c) {
  if (c >= 'A' && c <= 'Z') return false;
  if (static_cast<unsigned char>(c) <= ' ') return false;
  return std::string_view("\\/*?\"<>|,#:").find(c) == std::string_view::npos;
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

}  // namespace

absl::StatusOr<std::string> ReadCredentialFile(const std::string& path,
                                               std::string_view description) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read ", ToAbsl(description), " file ", path,
                                            ": ", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(ToAbsl(description), " file ", path, " is not a regular file"));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s file %s is accessible to group or others (mode %04o); run chmod 600 %s",
                        description, path, info.st_mode & 07777, path));
  }

  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) {
    return absl::UnavailableError(absl::StrCat("cannot read ", ToAbsl(description), " file ", path,
                                               ": ", std::strerror(errno)));
  }

  std::string secret(absl::StripAsciiWhitespace(content.str()));
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(description), " file ", path, " is empty"));
  }
  if (secret.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(description), " file ", path, " has more than one line; put only the secret in it"));
  }
  return secret;
}

std::string ApiKeyAuthorization(std::string_view key) {
  if (key.find(':') == std::string_view::npos) return absl::StrCat("ApiKey ", ToAbsl(key));
  std::string encoded(4 * ((key.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(key.data()),
                                     static_cast<int>(key.size()));
  encoded.resize(static_cast<size_t>(length));
  return absl::StrCat("ApiKey ", encoded);
}

absl::StatusOr<std::unique_ptr<ElasticsearchClient>> ElasticsearchClient::Create(
    const ElasticsearchConnectionOptions& options) {
  InitCurlOnce();
  std::unique_ptr<ElasticsearchClient> client(new ElasticsearchClient());
  client->options_ = options;

  CURLU* url = curl_url();
  const CURLUcode parsed = curl_url_set(url, CURLUPART_URL, options.url.c_str(), 0);
  char* scheme = nullptr;
  char* user = nullptr;
  char* query = nullptr;
  if (parsed == CURLUE_OK) {
    curl_url_get(url, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(url, CURLUPART_USER, &user, 0);
    curl_url_get(url, CURLUPART_QUERY, &query, 0);
  }
  const std::string scheme_name = scheme != nullptr ? scheme : "";
  const bool has_user = user != nullptr;
  const bool has_query = query != nullptr;
  curl_free(scheme);
  curl_free(user);
  curl_free(query);
  curl_url_cleanup(url);
  if (parsed != CURLUE_OK || (scheme_name != "http" && scheme_name != "https")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid Elasticsearch URL '", options.url,
        "': use http://HOST:PORT or https://HOST:PORT, optionally with a path prefix"));
  }
  if (has_user) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Elasticsearch URL '", options.url,
        "' contains credentials; put them in an API key or basic authentication file instead"));
  }
  if (has_query) {
    return absl::InvalidArgumentError(
        absl::StrCat("Elasticsearch URL '", options.url, "' has a query string; remove it"));
  }
  client->base_url_ = options.url;
  while (!client->base_url_.empty() && client->base_url_.back() == '/') {
    client->base_url_.pop_back();
  }

  if (!options.api_key_file.empty() && !options.basic_auth_file.empty()) {
    return absl::InvalidArgumentError(
        "give either an Elasticsearch API key file or a basic authentication file, not both");
  }
  if (!options.api_key_file.empty()) {
    absl::StatusOr<std::string> key =
        ReadCredentialFile(options.api_key_file, "Elasticsearch API key");
    if (!key.ok()) return key.status();
    client->authorization_ = absl::StrCat("Authorization: ", ApiKeyAuthorization(*key));
  }
  if (!options.basic_auth_file.empty()) {
    absl::StatusOr<std::string> credentials =
        ReadCredentialFile(options.basic_auth_file, "Elasticsearch basic authentication");
    if (!credentials.ok()) return credentials.status();
    if (credentials->find(':') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("Elasticsearch basic authentication file ",
                                                     options.basic_auth_file,
                                                     " must contain user:password"));
    }
    client->basic_auth_ = std::move(*credentials);
  }
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read Elasticsearch CA file ", options.ca_file,
                                            ": ", std::strerror(errno)));
  }

  client->curl_ = curl_easy_init();
  if (client->curl_ == nullptr) return absl::InternalError("curl_easy_init failed");
  return client;
}

ElasticsearchClient::~ElasticsearchClient() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

absl::StatusOr<HttpResponse> ElasticsearchClient::Send(std::string_view method,
                                                       std::string_view path, std::string_view body,
                                                       std::string_view content_type,
                                                       bool gzip_encoded) {
  const std::string url = absl::StrCat(base_url_, ToAbsl(path));
  ResponseBuffer response;
  char error[CURL_ERROR_SIZE] = {};

  curl_slist* headers = nullptr;
  headers =
      curl_slist_append(headers, absl::StrCat("Content-Type: ", ToAbsl(content_type)).c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  // libcurl would send "Expect: 100-continue" for large bodies and wait for a response.
  headers = curl_slist_append(headers, "Expect:");
  if (gzip_encoded) headers = curl_slist_append(headers, "Content-Encoding: gzip");
  if (!authorization_.empty()) headers = curl_slist_append(headers, authorization_.c_str());

  CURL* curl = curl_;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    // POSTFIELDS makes a POST; another method name replaces the verb, keeping the body.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method != "POST")
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnResponseData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  SetTransportOptions(
      curl, {.connect_timeout_ms = static_cast<long>(options_.connect_timeout.count()),
             .total_timeout_ms = static_cast<long>(options_.request_timeout.count()),
             .verify_tls = options_.verify_tls,
             .ca_file = &options_.ca_file,
             .abort = abort_,
             .error_buffer = error});
  if (!basic_auth_.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, basic_auth_.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    const std::string detail = absl::StrCat(
        ToAbsl(method), " ", url, " failed: ", error[0] != '\0' ? error : curl_easy_strerror(code));
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(detail);
      case CURLE_ABORTED_BY_CALLBACK:
        return absl::CancelledError(detail);
      case CURLE_WRITE_ERROR:
        if (response.too_large) {
          return absl::ResourceExhaustedError(
              absl::StrCat(detail, " (response larger than ", kMaxResponseBytes, " bytes)"));
        }
        return absl::UnavailableError(detail);
      default:
        return absl::UnavailableError(detail);
    }
  }
  HttpResponse result;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  result.body = std::move(response.body);
  return result;
}

absl::Status ValidateIndexPattern(std::string_view pattern) {
  if (pattern.empty()) return absl::InvalidArgumentError("the Elasticsearch index name is empty");
  if (pattern.front() == '-' || pattern.front() == '_' || pattern.front() == '+') {
    return absl::InvalidArgumentError(absl::StrCat("invalid Elasticsearch index '", ToAbsl(pattern),
                                                   "': a name cannot start with -, _ or +"));
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '%') {
      if (i + 1 < pattern.size() &&
          std::string_view("YmdH%").find(pattern[i + 1]) != std::string_view::npos) {
        ++i;
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("invalid Elasticsearch index '", ToAbsl(pattern),
                       "': only %Y, %m, %d, %H "
                       "and %% can be replaced from the alert's @timestamp"));
    }
    if (!ValidIndexCharacter(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid Elasticsearch index '", ToAbsl(pattern),
          "': index names are lower case, without spaces or any of \\ / * ? \" < > | , # :"));
    }
  }
  if (pattern.size() > 200) {
    return absl::InvalidArgumentError(absl::StrCat("invalid Elasticsearch index '", ToAbsl(pattern),
                                                   "': longer than 200 characters"));
  }
  return absl::OkStatus();
}

std::string FormatIndexName(std::string_view pattern, std::string_view timestamp,
                            int64_t fallback_unix_s) {
  std::string year, month, day, hour;
  if (timestamp.size() >= 13 && AllDigits(timestamp.substr(0, 4)) && timestamp[4] == '-' &&
      AllDigits(timestamp.substr(5, 2)) && timestamp[7] == '-' &&
      AllDigits(timestamp.substr(8, 2)) && timestamp[10] == 'T' &&
      AllDigits(timestamp.substr(11, 2))) {
    year = timestamp.substr(0, 4);
    month = timestamp.substr(5, 2);
    day = timestamp.substr(8, 2);
    hour = timestamp.substr(11, 2);
  } else {
    const time_t seconds = static_cast<time_t>(fallback_unix_s);
    tm utc;
    gmtime_r(&seconds, &utc);
    year = absl::StrFormat("%04d", utc.tm_year + 1900);
    month = absl::StrFormat("%02d", utc.tm_mon + 1);
    day = absl::StrFormat("%02d", utc.tm_mday);
    hour = absl::StrFormat("%02d", utc.tm_hour);
  }
  std::string name;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      name.push_back(pattern[i]);
      continue;
    }
    switch (pattern[++i]) {
      case 'Y':
        name += year;
        break;
      case 'm':
        name += month;
        break;
      case 'd':
        name += day;
        break;
      case 'H':
        name += hour;
        break;
      default:
        name.push_back(pattern[i]);
        break;
    }
  }
  return name;
}

absl::StatusOr<DocumentKeys> ExtractDocumentKeys(std::string_view document) {
  rapidjson::Document parsed;
  parsed.Parse(document.data(), document.size());
  if (parsed.HasParseError() || !parsed.IsObject()) {
    return absl::InvalidArgumentError("alert document is not a JSON object");
  }
  DocumentKeys keys;
  if (auto timestamp = parsed.FindMember("@timestamp");
      timestamp != parsed.MemberEnd() && timestamp->value.IsString()) {
    keys.timestamp.assign(timestamp->value.GetString(), timestamp->value.GetStringLength());
  }
  if (auto event = parsed.FindMember("event");
      event != parsed.MemberEnd() && event->value.IsObject()) {
    if (auto id = event->value.FindMember("id");
        id != event->value.MemberEnd() && id->value.IsString()) {
      keys.id.assign(id->value.GetString(), id->value.GetStringLength());
    }
  }
  return keys;
}

void AppendBulkCreate(std::string& body, std::string_view index, std::string_view id,
                      std::string_view document) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("create");
  writer.StartObject();
  writer.Key("_index");
  writer.String(index.data(), static_cast<rapidjson::SizeType>(index.size()));
  if (!id.empty()) {
    writer.Key("_id");
    writer.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  }
  writer.EndObject();
  writer.EndObject();
  body.append(buffer.GetString(), buffer.GetSize());
  body.push_back('\n');
  body.append(document);
  body.push_back('\n');
}

absl::StatusOr<std::string> GzipCompress(std::string_view data) {
  z_stream stream{};
  // 15 window bits plus 16 selects the gzip wrapper.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("zlib deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  const size_t produced = out.size() - stream.avail_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) {
    return absl::InternalError(absl::StrCat("zlib deflate failed with code ", rc));
  }
  out.resize(produced);
  return out;
}

absl::StatusOr<BulkResponse> ParseBulkResponse(std::string_view body) {
  rapidjson::Document parsed;
  parsed.Parse(body.data(), body.size());
  if (parsed.HasParseError() || !parsed.IsObject()) {
    return absl::InvalidArgumentError("_bulk response is not a JSON object");
  }
  BulkResponse response;
  auto errors = parsed.FindMember("errors");
  if (errors == parsed.MemberEnd() || !errors->value.IsBool()) {
    return absl::InvalidArgumentError("_bulk response has no boolean \"errors\"");
  }
  response.errors = errors->value.GetBool();
  auto items = parsed.FindMember("items");
  if (items == parsed.MemberEnd() || !items->value.IsArray()) {
    return absl::InvalidArgumentError("_bulk response has no \"items\" array");
  }
  for (const rapidjson::Value& item : items->value.GetArray()) {
    // Each item is {"<operation>": {"_index": ..., "_id": ..., "status": ..., ...}}.
    if (!item.IsObject() || item.MemberCount() != 1 || !item.MemberBegin()->value.IsObject()) {
      return absl::InvalidArgumentError("_bulk response item is not {\"<operation>\": {...}}");
    }
    const rapidjson::Value& result = item.MemberBegin()->value;
    auto status = result.FindMember("status");
    if (status == result.MemberEnd() || !status->value.IsInt()) {
      return absl::InvalidArgumentError("_bulk response item has no integer \"status\"");
    }
    BulkItemResult parsed_item;
    parsed_item.status = status->value.GetInt();
    if (auto id = result.FindMember("_id"); id != result.MemberEnd() && id->value.IsString()) {
      parsed_item.id.assign(id->value.GetString(), id->value.GetStringLength());
    }
    if (auto error = result.FindMember("error"); error != result.MemberEnd()) {
      if (error->value.IsObject()) {
        if (auto type = error->value.FindMember("type");
            type != error->value.MemberEnd() && type->value.IsString()) {
          parsed_item.error_type.assign(type->value.GetString(), type->value.GetStringLength());
        }
        if (auto reason = error->value.FindMember("reason");
            reason != error->value.MemberEnd() && reason->value.IsString()) {
          parsed_item.error_reason.assign(reason->value.GetString(),
                                          reason->value.GetStringLength());
        }
      } else if (error->value.IsString()) {
        parsed_item.error_reason.assign(error->value.GetString(), error->value.GetStringLength());
      }
    }
    response.items.push_back(std::move(parsed_item));
  }
  return response;
}

BulkItemOutcome ClassifyBulkItem(int status) {
  if (status >= 200 && status < 300) return BulkItemOutcome::kCreated;
  if (status == 409) return BulkItemOutcome::kAlreadyPresent;
  if (status == 429 || status >= 500) return BulkItemOutcome::kRetry;
  return BulkItemOutcome::kDeadLetter;
}

}  // namespace sensor::ctl

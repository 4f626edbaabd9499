#include "ctrlplane/misp/misp_source_status.h"

#include <utility>

namespace sensor::misp {

void SourceStatusBoard::Reset(std::vector<SourceStatus> sources) {
  std::lock_guard<std::mutex> lock(mutex_);
  sources_ = std::move(sources);
}

void SourceStatusBoard::Record(size_t index, const SourceOutcome& outcome,
                               std::chrono::system_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (index >= sources_.size()) return;
  SourceStatus& source = sources_[index];
  source.last_attempt = now;
  source.attributes = outcome.attributes;
  source.http_status = outcome.http_status;
  if (outcome.ok) {
    source.last_success = now;
    source.last_error.clear();
  } else {
    source.last_error = OneLine(outcome.error);
  }
}

std::vector<SourceStatus> SourceStatusBoard::Read() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sources_;
}

std::string WithoutCredentials(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t authority = scheme_end + 3;
  const size_t authority_end = url.find_first_of("/?#", authority);
  const std::string_view host_part = url.substr(
      authority, authority_end == std::string_view::npos ? std::string_view::npos
                                                         : authority_end - authority);
  const size_t at = host_part.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string cleaned(url.substr(0, authority));
  cleaned.append(url.substr(authority + at + 1));
  return cleaned;
}

std::string OneLine(std::string_view text) {
  std::string line;
  line.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      // Trailing line breaks and blank lines add nothing.
      if (!line.empty() && i + 1 < text.size() && text[i + 1] != '\n') line.append("; ");
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      line.push_back(' ');
    } else {
      line.push_back(c);
    }
  }
  return line;
}

}  // namespace sensor::misp

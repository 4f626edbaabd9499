#include "dataplane/pattern/pattern_database.h"

#include <fmt/format.h>
#include <hs/hs.h>

#include <algorithm>
#include <iterator>

namespace sensor::dp {
namespace {

struct Compiled {
  hs_database_t* database = nullptr;
  int failed_index = -1;
  std::string error;
};

Compiled CompileMode(const std::vector<const PatternSource*>& patterns, unsigned mode) {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const PatternSource* pattern : patterns) {
    expressions.push_back(pattern->expression.c_str());
    flags.push_back(pattern->flags);
    ids.push_back(pattern->indicator);
  }
  Compiled result;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), mode, nullptr, &result.database,
                       &error) != HS_SUCCESS) {
    result.database = nullptr;
    result.failed_index = error != nullptr ? error->expression : -1;
    result.error = error != nullptr && error->message != nullptr ? error->message : "unknown";
    hs_free_compile_error(error);
  }
  return result;
}

}  // namespace

PatternSource PatternFromMispValue(const std::string& value, uint32_t indicator,
                                   const std::string& name) {
  PatternSource source;
  source.indicator = indicator;
  source.name = name;
  // Report each pattern once per scan; workers only need to know it occurred.
  source.flags = HS_FLAG_SINGLEMATCH;
  const size_t last_slash = value.rfind('/');
  if (value.size() >= 2 && value.front() == '/' && last_slash > 0) {
    const std::string modifiers = value.substr(last_slash + 1);
    if (modifiers.find_first_not_of("ism") == std::string::npos) {
      source.expression = value.substr(1, last_slash - 1);
      if (modifiers.find('i') != std::string::npos) source.flags |= HS_FLAG_CASELESS;
      if (modifiers.find('s') != std::string::npos) source.flags |= HS_FLAG_DOTALL;
      if (modifiers.find('m') != std::string::npos) source.flags |= HS_FLAG_MULTILINE;
      return source;
    }
  }
  source.expression = EscapeLiteral(value);
  return source;
}

std::string EscapeLiteral(std::string_view literal) {
  std::string expression;
  expression.reserve(literal.size() * 4);
  for (unsigned char c : literal) fmt::format_to(std::back_inserter(expression), "\\x{:02x}", c);
  return expression;
}

absl::StatusOr<std::unique_ptr<PatternDatabase>> PatternDatabase::Compile(
    const std::vector<PatternSource>& patterns, uint32_t workers,
    std::vector<RejectedPattern>& rejected) {
  std::vector<const PatternSource*> remaining;
  for (const PatternSource& pattern : patterns) {
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_expression_info(pattern.expression.c_str(), pattern.flags, &info, &error) !=
        HS_SUCCESS) {
      rejected.push_back(
          {pattern.indicator, fmt::format("{}: pattern '{}' does not compile: {}", pattern.name,
                                          pattern.expression.substr(0, 80),
                                          error != nullptr ? error->message : "unknown error")});
      hs_free_compile_error(error);
      continue;
    }
    std::free(info);
    remaining.push_back(&pattern);
  }

  std::unique_ptr<PatternDatabase> database(new PatternDatabase());
  // A pattern can pass the syntax check and still fail in one mode (for example when it
  // is too large); leave it out and compile the rest again.
  for (unsigned mode : {HS_MODE_BLOCK, HS_MODE_STREAM}) {
    while (!remaining.empty()) {
      Compiled compiled = CompileMode(remaining, mode);
      if (compiled.database != nullptr) {
        (mode == HS_MODE_BLOCK ? database->block_ : database->stream_) = compiled.database;
        break;
      }
      if (compiled.failed_index < 0 ||
          static_cast<size_t>(compiled.failed_index) >= remaining.size()) {
        return absl::InternalError(fmt::format("Hyperscan compile failed: {}", compiled.error));
      }
      const PatternSource* failed = remaining[compiled.failed_index];
      rejected.push_back(
          {failed->indicator, fmt::format("{}: pattern '{}' does not compile: {}", failed->name,
                                          failed->expression.substr(0, 80), compiled.error)});
      remaining.erase(remaining.begin() + compiled.failed_index);
      // The block database, if built, no longer matches the remaining set; rebuild it.
      if (mode == HS_MODE_STREAM && database->block_ != nullptr) {
        hs_free_database(database->block_);
        Compiled block = CompileMode(remaining, HS_MODE_BLOCK);
        database->block_ = block.database;
      }
    }
  }
  if (remaining.empty()) return std::unique_ptr<PatternDatabase>();
  database->pattern_count_ = remaining.size();
  hs_stream_size(database->stream_, &database->stream_state_bytes_);

  for (uint32_t i = 0; i < workers; ++i) {
    hs_scratch_t* scratch = nullptr;
    if (hs_alloc_scratch(database->block_, &scratch) != HS_SUCCESS ||
        hs_alloc_scratch(database->stream_, &scratch) != HS_SUCCESS) {
      if (scratch != nullptr) hs_free_scratch(scratch);
      return absl::ResourceExhaustedError("cannot allocate Hyperscan scratch");
    }
    database->scratch_.push_back(scratch);
  }
  return database;
}

PatternDatabase::~PatternDatabase() {
  for (hs_scratch_t* scratch : scratch_) hs_free_scratch(scratch);
  if (block_ != nullptr) hs_free_database(block_);
  if (stream_ != nullptr) hs_free_database(stream_);
}

}  // namespace sensor::dp

// Hyperscan databases for payload patterns: one block-mode database for single packets
// and one stream-mode database for TCP flows, built from the same expressions, plus one
// scratch space per worker that fits both.
//
// Built on the control thread and published inside a snapshot, so a scratch is always
// grown for the database it is used with before any worker can scan with it (Hyperscan
// requires scratch sized for each database). Workers only read the databases and use
// their own scratch; scanning never allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct hs_database;
struct hs_scratch;

namespace sensor::dp {

struct PatternSource {
  std::string expression;  // Hyperscan (PCRE subset) syntax.
  unsigned flags = 0;      // HS_FLAG_* bits.
  uint32_t indicator = 0;  // Reported as the match id.
  std::string name;        // Names the pattern in errors, e.g. the attribute uuid.
};

struct RejectedPattern {
  uint32_t indicator = 0;
  std::string message;  // One line naming the pattern and Hyperscan's reason.
};

class PatternDatabase {
 public:
  // Compiles `patterns`. A pattern Hyperscan rejects is left out and described in
  // `rejected`; the others still compile. Returns an error only
  // if scratch cannot be allocated. Returns null inside the StatusOr when no pattern is
  // left.
  static absl::StatusOr<std::unique_ptr<PatternDatabase>> Compile(
      const std::vector<PatternSource>& patterns, uint32_t workers,
      std::vector<RejectedPattern>& rejected);
  ~PatternDatabase();
  PatternDatabase(const PatternDatabase&) = delete;
  PatternDatabase& operator=(const PatternDatabase&) = delete;

  const hs_database* block() const { return block_; }
  const hs_database* stream() const { return stream_; }
  hs_scratch* scratch(uint32_t worker) const { return scratch_[worker]; }
  size_t stream_state_bytes() const { return stream_state_bytes_; }
  size_t pattern_count() const { return pattern_count_; }

 private:
  PatternDatabase() = default;

  hs_database* block_ = nullptr;
  hs_database* stream_ = nullptr;
  std::vector<hs_scratch*> scratch_;
  size_t stream_state_bytes_ = 0;
  size_t pattern_count_ = 0;
};

// Turns a MISP pattern value into a Hyperscan expression: "/regex/flags" (flags i, s, m)
// is taken as a regular expression, anything else as a literal to find.
PatternSource PatternFromMispValue(const std::string& value, uint32_t indicator,
                                   const std::string& name);

// Returns a Hyperscan expression that matches `literal` byte for byte: every byte is
// written as a \xHH escape, so none keeps a regex meaning and NUL bytes survive.
//
// Literal sets go through hs_compile_multi in this form rather than hs_compile_lit_multi:
// Hyperscan 5.4.0 (Debian 12) builds some literal-mode databases whose scans fail with
// HS_UNKNOWN_ERROR, for example {"p", "urlclab.33...3"} with HS_FLAG_SINGLEMATCH.
std::string EscapeLiteral(std::string_view literal);

}  // namespace sensor::dp

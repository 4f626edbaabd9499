// Screening of MISP attributes against warninglists: which lists a (type, value) pair hits,
// so that known-benign indicators (CDN ranges, public resolvers, sandbox domains) can be
// reported or dropped before they reach the workers.
//
// A list applies to an attribute when its matching_attributes contain the attribute type,
// or when it has none. Composite values ("ip-dst|port", "domain|ip") are split at the first
// "|" and each part is screened on its own, as MISP does. Per list type:
//  - cidr: a part that is an IPv4 or IPv6 address or CIDR, or a URL or e-mail address
//    with such a host, hits when it lies within or equals a listed block. So 10.1.0.0/16
//    hits a list with 10.0.0.0/8, but 10.0.0.0/8 does not hit a list with 10.1.0.0/16.
//    IPv4-mapped IPv6 (::ffff:a.b.c.d, prefixes /96 and longer) counts as IPv4;
//  - hostname: the part's domain (a URL's host, the domain of an e-mail address) equals a
//    listed name or is a subdomain of one, both canonicalised as in domain_name.h;
//  - string: the part equals an entry, ignoring ASCII case;
//  - substring: an entry occurs in the part, ignoring ASCII case (Hyperscan, every byte
//    of the entry escaped);
//  - regex: a PCRE-style pattern ("/expression/flags", or a bare expression) matches the
//    part, compiled with Hyperscan. Flags i, m, s and u map to Hyperscan flags and g is
//    ignored; a pattern Hyperscan cannot compile is skipped with one error line.
//
// Control thread only. Build() allocates and compiles Hyperscan databases. Screen() and
// Explain() allocate their result and share one Hyperscan scratch space, so no two calls
// may run at the same time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/warninglist/warninglist_loader.h"
#include "dataplane/match/domain_set.h"

struct hs_database;
struct hs_scratch;

namespace sensor::ctl {

// A loaded list without its entries, plus its state in the index.
struct WarninglistInfo {
  std::string folder;
  std::string name;
  std::string description;
  std::string category;
  int64_t version = 0;
  WarninglistType type = WarninglistType::kString;
  std::vector<std::string> matching_attributes;  // Empty: every attribute type.
  std::string source;
  size_t entry_count = 0;  // Entries in the index; skipped entries do not count.
  bool enabled = true;
  uint64_t hits = 0;  // Screen() calls that returned this list.
};

struct WarninglistOptions {
  // Lists that start disabled, each given by name or folder.
  std::vector<std::string> disabled;
};

class WarninglistIndex {
 public:
  // Compiles `lists` into one index. An entry that cannot be used (an invalid CIDR or
  // host name, a pattern Hyperscan cannot compile) is skipped and reported in `errors`,
  // as is a name in options.disabled that matches no list. Fails only when Hyperscan
  // cannot allocate its scratch space.
  static absl::StatusOr<WarninglistIndex> Build(std::vector<Warninglist> lists,
                                                const WarninglistOptions& options,
                                                std::vector<std::string>& errors);

  WarninglistIndex(WarninglistIndex&&) noexcept;
  WarninglistIndex& operator=(WarninglistIndex&&) noexcept;
  ~WarninglistIndex();

  // Returns the indices into lists() of the enabled lists that `value` of MISP attribute
  // type `type` hits, in ascending order, and counts a hit for each.
  std::vector<size_t> Screen(std::string_view type, std::string_view value);

  // Returns the names of the enabled lists that Screen() would return, without counting.
  std::vector<std::string> Explain(std::string_view type, std::string_view value) const;

  // Enables or disables the list with this name or folder; fails with NotFound otherwise.
  absl::Status SetEnabled(std::string_view name_or_folder, bool enabled);
  std::optional<size_t> FindList(std::string_view name_or_folder) const;

  const std::vector<WarninglistInfo>& lists() const { return lists_; }

  // Hyperscan scans that failed, which leaves those values screened only in part. Non-zero
  // only after an internal error, such as two calls sharing the scratch space.
  uint64_t scan_failures() const { return scan_failures_; }

 private:
  struct DatabaseDeleter {
    void operator()(hs_database* database) const;
  };
  struct ScratchDeleter {
    void operator()(hs_scratch* scratch) const;
  };
  using Database = std::unique_ptr<hs_database, DatabaseDeleter>;
  using Scratch = std::unique_ptr<hs_scratch, ScratchDeleter>;

  // An address block, masked to its length. IPv4 blocks use the first four bytes.
  struct Block {
    std::array<uint8_t, 16> bytes{};
    uint8_t length = 0;
    bool v4 = false;

    friend bool operator==(const Block&, const Block&) = default;
    template <typename H>
    friend H AbslHashValue(H hash, const Block& block) {
      return H::combine(std::move(hash), block.bytes, block.length, block.v4);
    }
  };
  static std::optional<Block> ParseBlock(std::string_view text);
  static Block Mask(const Block& block, uint8_t length);

  struct Builder;

  WarninglistIndex() = default;

  // Marks in `hits` every list whose entries match, whatever its state and types.
  void CollectHits(std::string_view type, std::string_view value, std::vector<bool>& hits) const;
  void CollectCidrHits(std::string_view text, std::vector<bool>& hits) const;
  void CollectHostnameHits(std::string_view text, std::vector<bool>& hits) const;
  void CollectStringHits(std::string_view text, std::vector<bool>& hits) const;
  void ScanDatabase(const Database& database, std::string_view text, std::vector<bool>& hits) const;
  // The enabled lists among `hits` that apply to `type`.
  std::vector<size_t> ApplicableHits(std::string_view type, const std::vector<bool>& hits) const;

  std::vector<WarninglistInfo> lists_;
  std::vector<absl::flat_hash_set<std::string>> matching_types_;

  absl::flat_hash_map<Block, std::vector<uint32_t>> blocks_;  // Block to list indices.
  std::vector<uint8_t> v4_lengths_;                           // Distinct block lengths, ascending.
  std::vector<uint8_t> v6_lengths_;
  dp::DomainSet hostnames_;  // Domain rules whose indicator is the list index.
  dp::StringTable strings_;  // Lower-cased entry to list indices, group 0.
  Database substrings_;
  Database regexes_;
  // Hyperscan scratch space is written by every scan, also from the const Explain().
  mutable Scratch scratch_;
  mutable uint64_t scan_failures_ = 0;
};

}  // namespace sensor::ctl

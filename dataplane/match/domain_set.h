// Domain and hostname indicators, held compactly enough for millions of names.
//
// StringTable maps byte strings to lists of uint32 values. Its keys and values sit in one
// contiguous array of records, and an open-addressing table of 12-byte slots (hash plus
// record offset) indexes them. DomainSet stores canonical names (see domain_name.h) in a
// StringTable and matches a name against itself and every parent domain.
//
// Built on the control thread by the builders, then immutable: any number of worker lcores
// may call Find() and Match() concurrently. Lookups never allocate.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/match/domain_name.h"

namespace sensor::dp {

// 64-bit hash of a byte string, fed from the last byte to the first. Because the state
// after k bytes depends only on the last k bytes of the string, one pass over a domain
// name yields the hash of every parent suffix. Each byte is one FNV-1a step, and Hash()
// applies the MurmurHash3 fmix64 finaliser so that the high bits, which pick the slot,
// depend on every byte.
class SuffixHasher {
 public:
  void Prepend(char c) { state_ = (state_ ^ static_cast<uint8_t>(c)) * kFnvPrime; }

  uint64_t Hash() const {
    uint64_t h = state_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }

 private:
  static constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ULL;
  static constexpr uint64_t kFnvPrime = 1099511628211ULL;
  uint64_t state_ = kFnvOffsetBasis;
};

// SuffixHasher over all of `text`.
uint64_t HashString(std::string_view text);

// The values of one key in one group of a StringTable. A view into the table.
class ValueList {
 public:
  ValueList() = default;
  ValueList(const char* data, uint32_t size) : data_(data), size_(size) {}

  uint32_t size() const { return size_; }
  uint32_t operator[](uint32_t i) const {
    uint32_t value;
    std::memcpy(&value, data_ + static_cast<size_t>(i) * sizeof(value), sizeof(value));
    return value;
  }

 private:
  const char* data_ = nullptr;
  uint32_t size_ = 0;
};

// Immutable map from byte strings to values in two groups (DomainSet keeps domain rules
// in group 0 and hostname rules in group 1).
//
// Layout: each key has one record, [key length][key][count 0][count 1][values], with the
// lengths and counts as LEB128 varints and the values as uint32. Slots are ordered by
// hash: every key sits at or after its home slot, which the high 32 bits of its hash pick,
// and before every key with a larger hash. A lookup therefore scans from the home slot and
// stops at an empty slot or a larger hash. At the load factor of 0.8 that is about three
// slots (36 bytes) for a key that is absent.
class StringTable {
 public:
  static constexpr int kGroupCount = 2;

  struct Entry {
    std::string_view key;
    ValueList groups[kGroupCount];
  };

  // Finds `key`, whose hash must be HashString(key), and fills `entry` with views into the
  // table.
  bool Find(uint64_t hash, std::string_view key, Entry& entry) const;

  size_t key_count() const { return key_count_; }
  size_t value_count() const { return value_count_; }
  // Bytes of this object plus the heap memory it owns.
  size_t MemoryBytes() const;

 private:
  friend class StringTableBuilder;
  static constexpr uint32_t kEmptySlot = UINT32_MAX;

  struct Slot {
    uint32_t hash_high = 0;
    uint32_t hash_low = 0;
    uint32_t record = kEmptySlot;  // Offset of the record in records_.
  };

  static uint32_t ReadVarint(const char*& cursor) {
    uint32_t value = 0;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<uint8_t>(*cursor++);
      value |= static_cast<uint32_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        return value;
      }
    }
  }

  bool ReadRecordIfKey(uint32_t offset, std::string_view key, Entry& entry) const;

  std::vector<Slot> slots_;
  size_t home_slot_count_ = 0;  // Slots that are some key's home; the rest take overflow.
  std::vector<char> records_;
  size_t key_count_ = 0;
  size_t value_count_ = 0;
};

class StringTableBuilder {
 public:
  // Adds `value` to group `group` (0 or 1) of `key`. A repeated (key, group, value) is kept
  // once. Fails when the records would pass 4 GiB, the limit of a 32-bit record offset.
  absl::Status Add(std::string_view key, int group, uint32_t value);
  StringTable Build() &&;

 private:
  struct PendingValue {
    uint64_t hash = 0;
    uint64_t key_offset = 0;  // Into keys_.
    uint32_t key_length = 0;
    uint32_t value = 0;
    uint8_t group = 0;
  };
  std::string_view KeyOf(const PendingValue& pending) const {
    return {keys_.data() + pending.key_offset, pending.key_length};
  }

  std::vector<char> keys_;
  std::vector<PendingValue> pending_;
  uint64_t record_bytes_bound_ = 0;
};

// Scope of a domain indicator. MISP's `domain` covers the name and every name below it,
// and `hostname` covers only the name itself.
enum class DomainMatchKind : uint8_t {
  kDomain = 0,
  kHostname = 1,
};

struct DomainRule {
  uint32_t indicator = 0;  // Index into the snapshot's indicator table.
  DomainMatchKind kind = DomainMatchKind::kDomain;
};

class DomainSet {
 public:
  // Calls `on_rule(const DomainRule&)` for each rule of the longest suffix of `name` (the
  // name itself or a parent domain) that has a rule applying to it, and returns how many
  // rules it passed. Hostname rules apply only to the name itself. `name` must be
  // canonical, as CanonicalizeAsciiDomainName() writes it; other names match nothing.
  // Costs one table lookup per label.
  template <typename OnRule>
  int Match(std::string_view name, OnRule&& on_rule) const;

  // As Match(), but calls `on_match(std::string_view suffix, const DomainRule&)` for the
  // rules of every matching suffix, longest first, so callers that want all matches
  // (warninglists) see each level.
  template <typename OnMatch>
  int MatchAllSuffixes(std::string_view name, OnMatch&& on_match) const;

  size_t name_count() const { return table_.key_count(); }
  size_t rule_count() const { return table_.value_count(); }
  size_t MemoryBytes() const { return table_.MemoryBytes(); }

 private:
  friend class DomainSetBuilder;

  struct Suffixes {
    uint64_t hashes[kMaxDomainLabels];
    uint8_t starts[kMaxDomainLabels];  // Offset of each suffix in the name.
    size_t count = 0;                  // Entry 0 is the shortest suffix (the last label).
  };
  static bool HashSuffixes(std::string_view name, Suffixes& suffixes);

  // Visits the rules of `entry` that apply, calling `visit(const DomainRule&)`.
  template <typename Visit>
  static int VisitRules(const StringTable::Entry& entry, bool exact, Visit& visit);

  StringTable table_;
};

class DomainSetBuilder {
 public:
  // Adds a rule for `canonical_name`, which must be the output of CanonicalizeDomainName()
  // or CanonicalizeAsciiDomainName(). A name in any other form is rejected with a message
  // naming it.
  absl::Status Add(std::string_view canonical_name, DomainMatchKind kind, uint32_t indicator);
  DomainSet Build() &&;

 private:
  StringTableBuilder table_;
};

inline bool StringTable::ReadRecordIfKey(uint32_t offset, std::string_view key,
                                         Entry& entry) const {
  const char* cursor = records_.data() + offset;
  const uint32_t key_length = ReadVarint(cursor);
  if (key_length != key.size() || std::memcmp(cursor, key.data(), key_length) != 0) {
    return false;
  }
  entry.key = {cursor, key_length};
  cursor += key_length;
  const uint32_t first_count = ReadVarint(cursor);
  const uint32_t second_count = ReadVarint(cursor);
  entry.groups[0] = ValueList(cursor, first_count);
  entry.groups[1] =
      ValueList(cursor + static_cast<size_t>(first_count) * sizeof(uint32_t), second_count);
  return true;
}

inline bool StringTable::Find(uint64_t hash, std::string_view key, Entry& entry) const {
  if (home_slot_count_ == 0) {
    return false;
  }
  const auto high = static_cast<uint32_t>(hash >> 32);
  const auto low = static_cast<uint32_t>(hash);
  size_t i = static_cast<size_t>((static_cast<uint64_t>(high) * home_slot_count_) >> 32);
  for (; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (slot.record == kEmptySlot) {
      return false;
    }
    if (slot.hash_high != high || slot.hash_low != low) {
      const bool larger = slot.hash_high > high || (slot.hash_high == high && slot.hash_low > low);
      if (larger) {
        return false;
      }
      continue;
    }
    // Equal hashes: compare the key, because distinct keys may share a 64-bit hash.
    if (ReadRecordIfKey(slot.record, key, entry)) {
      return true;
    }
  }
  return false;
}

inline bool DomainSet::HashSuffixes(std::string_view name, Suffixes& suffixes) {
  suffixes.count = 0;
  if (name.empty() || name.size() > kMaxDomainNameLength) {
    return false;
  }
  SuffixHasher hasher;
  for (size_t i = name.size(); i-- > 0;) {
    hasher.Prepend(name[i]);
    if (i == 0 || name[i - 1] == '.') {
      if (suffixes.count == kMaxDomainLabels) {
        return false;  // Empty labels: not a canonical name.
      }
      suffixes.hashes[suffixes.count] = hasher.Hash();
      suffixes.starts[suffixes.count] = static_cast<uint8_t>(i);
      ++suffixes.count;
    }
  }
  return true;
}

template <typename Visit>
int DomainSet::VisitRules(const StringTable::Entry& entry, bool exact, Visit& visit) {
  const ValueList& domains = entry.groups[static_cast<int>(DomainMatchKind::kDomain)];
  for (uint32_t i = 0; i < domains.size(); ++i) {
    visit(DomainRule{domains[i], DomainMatchKind::kDomain});
  }
  if (!exact) {
    return static_cast<int>(domains.size());
  }
  const ValueList& hostnames = entry.groups[static_cast<int>(DomainMatchKind::kHostname)];
  for (uint32_t i = 0; i < hostnames.size(); ++i) {
    visit(DomainRule{hostnames[i], DomainMatchKind::kHostname});
  }
  return static_cast<int>(domains.size() + hostnames.size());
}

template <typename OnRule>
int DomainSet::Match(std::string_view name, OnRule&& on_rule) const {
  Suffixes suffixes;
  if (!HashSuffixes(name, suffixes)) {
    return 0;
  }
  for (size_t k = suffixes.count; k-- > 0;) {
    StringTable::Entry entry;
    if (!table_.Find(suffixes.hashes[k], name.substr(suffixes.starts[k]), entry)) {
      continue;
    }
    const bool exact = suffixes.starts[k] == 0;
    if (const int applied = VisitRules(entry, exact, on_rule); applied > 0) {
      return applied;
    }
  }
  return 0;
}

template <typename OnMatch>
int DomainSet::MatchAllSuffixes(std::string_view name, OnMatch&& on_match) const {
  Suffixes suffixes;
  if (!HashSuffixes(name, suffixes)) {
    return 0;
  }
  int applied = 0;
  for (size_t k = suffixes.count; k-- > 0;) {
    StringTable::Entry entry;
    const std::string_view suffix = name.substr(suffixes.starts[k]);
    if (!table_.Find(suffixes.hashes[k], suffix, entry)) {
      continue;
    }
    auto visit = [&](const DomainRule& rule) { on_match(suffix, rule); };
    applied += VisitRules(entry, suffixes.starts[k] == 0, visit);
  }
  return applied;
}

}  // namespace sensor::dp

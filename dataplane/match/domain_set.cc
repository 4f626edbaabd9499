#include "dataplane/match/domain_set.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace sensor::dp {
namespace {

// Keys per home slot. Higher saves memory, lower shortens the scan for absent keys.
constexpr double kMaxLoadFactor = 0.8;
constexpr size_t kMaxVarintBytes = 5;  // A uint32 in LEB128.
// Record offsets are uint32 and UINT32_MAX marks an empty slot.
constexpr uint64_t kMaxRecordBytes = UINT32_MAX - 1;

size_t VarintSize(uint32_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

void AppendVarint(std::vector<char>& out, uint32_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void AppendValue(std::vector<char>& out, uint32_t value) {
  char bytes[sizeof(value)];
  std::memcpy(bytes, &value, sizeof(value));
  out.insert(out.end(), bytes, bytes + sizeof(value));
}

}  // namespace

uint64_t HashString(std::string_view text) {
  SuffixHasher hasher;
  for (size_t i = text.size(); i-- > 0;) {
    hasher.Prepend(text[i]);
  }
  return hasher.Hash();
}

size_t StringTable::MemoryBytes() const {
  return sizeof(*this) + slots_.capacity() * sizeof(Slot) + records_.capacity();
}

absl::Status StringTableBuilder::Add(std::string_view key, int group, uint32_t value) {
  if (group < 0 || group >= StringTable::kGroupCount) {
    return absl::InvalidArgumentError(fmt::format("string table group {} is out of range 0-{}",
                                                  group, StringTable::kGroupCount - 1));
  }
  const uint64_t bound = key.size() + 3 * kMaxVarintBytes + sizeof(uint32_t);
  if (key.size() > kMaxRecordBytes || record_bytes_bound_ + bound > kMaxRecordBytes) {
    return absl::ResourceExhaustedError(fmt::format(
        "string table full: adding a {}-byte key would pass the {}-byte limit of 32-bit "
        "record offsets",
        key.size(), kMaxRecordBytes));
  }
  record_bytes_bound_ += bound;
  PendingValue pending;
  pending.hash = HashString(key);
  pending.key_offset = keys_.size();
  pending.key_length = static_cast<uint32_t>(key.size());
  pending.value = value;
  pending.group = static_cast<uint8_t>(group);
  keys_.insert(keys_.end(), key.begin(), key.end());
  pending_.push_back(pending);
  return absl::OkStatus();
}

StringTable StringTableBuilder::Build() && {
  // Sorting by hash first puts the keys in slot order; within a key the values end up
  // grouped and sorted, which makes duplicates adjacent.
  std::sort(pending_.begin(), pending_.end(), [this](const PendingValue& a, const PendingValue& b) {
    if (a.hash != b.hash) {
      return a.hash < b.hash;
    }
    if (const int order = KeyOf(a).compare(KeyOf(b)); order != 0) {
      return order < 0;
    }
    if (a.group != b.group) {
      return a.group < b.group;
    }
    return a.value < b.value;
  });
  pending_.erase(std::unique(pending_.begin(), pending_.end(),
                             [this](const PendingValue& a, const PendingValue& b) {
                               return a.hash == b.hash && a.group == b.group &&
                                      a.value == b.value && KeyOf(a) == KeyOf(b);
                             }),
                 pending_.end());

  // Calls visit(begin, end, first_group_count) for the run of values of each key.
  auto for_each_key = [this](auto&& visit) {
    size_t begin = 0;
    while (begin < pending_.size()) {
      size_t end = begin + 1;
      while (end < pending_.size() && pending_[end].hash == pending_[begin].hash &&
             KeyOf(pending_[end]) == KeyOf(pending_[begin])) {
        ++end;
      }
      size_t first_group_count = 0;
      while (begin + first_group_count < end && pending_[begin + first_group_count].group == 0) {
        ++first_group_count;
      }
      visit(begin, end, first_group_count);
      begin = end;
    }
  };

  StringTable table;
  size_t record_bytes = 0;
  for_each_key([&](size_t begin, size_t end, size_t first_group_count) {
    const auto key_length = pending_[begin].key_length;
    record_bytes += VarintSize(key_length) + key_length;
    record_bytes += VarintSize(static_cast<uint32_t>(first_group_count));
    record_bytes += VarintSize(static_cast<uint32_t>(end - begin - first_group_count));
    record_bytes += (end - begin) * sizeof(uint32_t);
    ++table.key_count_;
  });
  table.value_count_ = pending_.size();
  if (table.key_count_ == 0) {
    return table;
  }

  table.records_.reserve(record_bytes);
  table.home_slot_count_ =
      static_cast<size_t>(std::ceil(static_cast<double>(table.key_count_) / kMaxLoadFactor));
  table.slots_.assign(table.home_slot_count_, StringTable::Slot{});
  size_t next_free = 0;
  for_each_key([&](size_t begin, size_t end, size_t first_group_count) {
    const PendingValue& first = pending_[begin];
    const auto offset = static_cast<uint32_t>(table.records_.size());
    AppendVarint(table.records_, first.key_length);
    const std::string_view key = KeyOf(first);
    table.records_.insert(table.records_.end(), key.begin(), key.end());
    AppendVarint(table.records_, static_cast<uint32_t>(first_group_count));
    AppendVarint(table.records_, static_cast<uint32_t>(end - begin - first_group_count));
    for (size_t i = begin; i < end; ++i) {
      AppendValue(table.records_, pending_[i].value);
    }

    StringTable::Slot slot;
    slot.hash_high = static_cast<uint32_t>(first.hash >> 32);
    slot.hash_low = static_cast<uint32_t>(first.hash);
    slot.record = offset;
    const size_t home =
        static_cast<size_t>((static_cast<uint64_t>(slot.hash_high) * table.home_slot_count_) >> 32);
    const size_t position = std::max(home, next_free);
    if (position == table.slots_.size()) {
      table.slots_.push_back(slot);  // Overflow past the last home slot.
    } else {
      table.slots_[position] = slot;
    }
    next_free = position + 1;
  });
  table.slots_.shrink_to_fit();

  pending_ = {};
  keys_ = {};
  record_bytes_bound_ = 0;
  return table;
}

absl::Status DomainSetBuilder::Add(std::string_view canonical_name, DomainMatchKind kind,
                                   uint32_t indicator) {
  DomainNameBuffer buffer;
  const DomainNameStatus status = CanonicalizeAsciiDomainName(canonical_name, buffer);
  if (status != DomainNameStatus::kOk || buffer.view() != canonical_name) {
    return absl::InvalidArgumentError(
        fmt::format("domain name {} is not in canonical form; pass it through "
                    "CanonicalizeDomainName() first",
                    internal::QuoteForMessage(canonical_name)));
  }
  return table_.Add(canonical_name, static_cast<int>(kind), indicator);
}

DomainSet DomainSetBuilder::Build() && {
  DomainSet set;
  set.table_ = std::move(table_).Build();
  return set;
}

}  // namespace sensor::dp

#include "dataplane/match/ip_set.h"

#include <algorithm>

namespace sensor::dp {

uint32_t MaskV4(uint32_t address, int length) {
  if (length <= 0) return 0;
  if (length >= 32) return address;
  return address & ~((uint32_t{1} << (32 - length)) - 1);
}

IpAddress MaskV6(const IpAddress& address, int length) {
  IpAddress masked = address;
  for (int i = 0; i < 16; ++i) {
    const int bits_left = length - i * 8;
    if (bits_left >= 8) continue;
    masked.bytes[i] &= bits_left <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits_left));
  }
  return masked;
}

void IpSetBuilder::Add(const IpAddress& address, int length, const AddressRule& rule) {
  Entry entry;
  entry.v4 = address.IsV4();
  entry.length = static_cast<uint8_t>(std::clamp(length, 0, entry.v4 ? 32 : 128));
  entry.masked = entry.v4 ? IpAddress::FromV4(MaskV4(address.v4(), entry.length))
                          : MaskV6(address, entry.length);
  entry.rule = rule;
  entries_.push_back(entry);
}

IpSet IpSetBuilder::Build() && {
  // Group rules by (family, length, prefix) so each prefix owns one contiguous range.
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.v4 != b.v4) return a.v4;
    if (a.length != b.length) return a.length > b.length;
    if (a.masked != b.masked) return a.masked < b.masked;
    return a.rule.indicator < b.rule.indicator;
  });

  IpSet set;
  set.rules_.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size();) {
    size_t end = i;
    while (end < entries_.size() && entries_[end].v4 == entries_[i].v4 &&
           entries_[end].length == entries_[i].length &&
           entries_[end].masked == entries_[i].masked) {
      ++end;
    }
    const Entry& first = entries_[i];
    IpSet::Range range{static_cast<uint32_t>(set.rules_.size()),
                       static_cast<uint32_t>(end - i)};
    for (size_t k = i; k < end; ++k) set.rules_.push_back(entries_[k].rule);

    if (first.v4) {
      if (set.v4_levels_.empty() || set.v4_levels_.back().length != first.length) {
        set.v4_levels_.push_back({first.length, {}});
      }
      set.v4_levels_.back().prefixes[first.masked.v4()] = range;
    } else {
      if (set.v6_levels_.empty() || set.v6_levels_.back().length != first.length) {
        set.v6_levels_.push_back({first.length, {}});
      }
      set.v6_levels_.back().prefixes[IpSet::ToV6Key(first.masked)] = range;
    }
    ++set.prefix_count_;
    i = end;
  }
  entries_.clear();
  return set;
}

size_t IpSet::MemoryBytes() const {
  size_t bytes = sizeof(*this) + rules_.capacity() * sizeof(AddressRule);
  for (const auto& level : v4_levels_) {
    bytes += level.prefixes.capacity() * (sizeof(uint32_t) + sizeof(Range) + 1);
  }
  for (const auto& level : v6_levels_) {
    bytes += level.prefixes.capacity() * (sizeof(V6Key) + sizeof(Range) + 1);
  }
  return bytes;
}

}  // namespace sensor::dp

// Address indicators: IPv4 and IPv6 prefixes, each with the rules (indicator, side, port)
// that name it. Lookup returns the rules of the longest prefix that contains the address
// and has at least one rule applicable to the side and port being checked.
//
// Built on the control thread by IpSetBuilder, then immutable: any number of worker
// lcores may call Match() concurrently. Match() never allocates.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dataplane/decode/packet.h"

namespace sensor::dp {

// Which address of a packet a rule looks at. ip-src rules look at the source, ip-dst at
// the destination, the address of a domain|ip pair at either.
enum MatchSide : uint8_t {
  kSideSource = 1,
  kSideDestination = 2,
  kSideEither = kSideSource | kSideDestination,
};

struct AddressRule {
  uint32_t indicator = 0;  // Index into the snapshot's indicator table.
  uint16_t port = 0;       // 0 matches any port; else the port on the same side.
  uint8_t sides = kSideEither;
};

class IpSet {
 public:
  // Calls `on_rule(const AddressRule&)` for each rule of the longest matching prefix that
  // applies to `side` and `port`, and returns how many rules it passed.
  template <typename OnRule>
  int Match(const IpAddress& address, MatchSide side, uint16_t port, OnRule&& on_rule) const;

  size_t prefix_count() const { return prefix_count_; }
  size_t rule_count() const { return rules_.size(); }
  size_t MemoryBytes() const;

 private:
  friend class IpSetBuilder;
  struct Range {
    uint32_t offset = 0;
    uint32_t count = 0;
  };
  struct V6Key {
    uint64_t high = 0;
    uint64_t low = 0;
    friend bool operator==(const V6Key&, const V6Key&) = default;
    template <typename H>
    friend H AbslHashValue(H hash, const V6Key& key) {
      return H::combine(std::move(hash), key.high, key.low);
    }
  };
  static V6Key ToV6Key(const IpAddress& address) {
    V6Key key;
    for (int i = 0; i < 8; ++i) key.high = key.high << 8 | address.bytes[i];
    for (int i = 8; i < 16; ++i) key.low = key.low << 8 | address.bytes[i];
    return key;
  }
  template <typename Key>
  struct Level {
    uint8_t length = 0;
    absl::flat_hash_map<Key, Range> prefixes;
  };

  template <typename OnRule>
  int ApplyRange(Range range, MatchSide side, uint16_t port, OnRule& on_rule) const;

  std::vector<Level<uint32_t>> v4_levels_;  // Longest prefix first.
  std::vector<Level<V6Key>> v6_levels_;
  std::vector<AddressRule> rules_;
  size_t prefix_count_ = 0;
};

class IpSetBuilder {
 public:
  // Adds a rule for `address`/`length`. IPv4 addresses (IsV4()) take lengths 0-32,
  // others 0-128. Host bits below the length are ignored.
  void Add(const IpAddress& address, int length, const AddressRule& rule);
  IpSet Build() &&;

 private:
  struct Entry {
    bool v4 = false;
    uint8_t length = 0;
    IpAddress masked;
    AddressRule rule;
  };
  std::vector<Entry> entries_;
};

uint32_t MaskV4(uint32_t address, int length);
IpAddress MaskV6(const IpAddress& address, int length);

template <typename OnRule>
int IpSet::ApplyRange(Range range, MatchSide side, uint16_t port, OnRule& on_rule) const {
  int applied = 0;
  for (uint32_t i = range.offset; i < range.offset + range.count; ++i) {
    const AddressRule& rule = rules_[i];
    if ((rule.sides & side) == 0 || (rule.port != 0 && rule.port != port)) continue;
    on_rule(rule);
    ++applied;
  }
  return applied;
}

template <typename OnRule>
int IpSet::Match(const IpAddress& address, MatchSide side, uint16_t port,
                 OnRule&& on_rule) const {
  if (address.IsV4()) {
    const uint32_t v4 = address.v4();
    for (const auto& level : v4_levels_) {
      auto it = level.prefixes.find(MaskV4(v4, level.length));
      if (it == level.prefixes.end()) continue;
      if (int applied = ApplyRange(it->second, side, port, on_rule); applied > 0) {
        return applied;
      }
    }
    return 0;
  }
  for (const auto& level : v6_levels_) {
    auto it = level.prefixes.find(ToV6Key(MaskV6(address, level.length)));
    if (it == level.prefixes.end()) continue;
    if (int applied = ApplyRange(it->second, side, port, on_rule); applied > 0) {
      return applied;
    }
  }
  return 0;
}

}  // namespace sensor::dp

#include "ctrlplane/resolved_watch.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dataplane/match/ip_set.h"

namespace sensor::ctl {

size_t ResolvedWatch::AddressHash::operator()(const dp::IpAddress& address) const {
  uint64_t high;
  uint64_t low;
  std::memcpy(&high, address.bytes.data(), 8);
  std::memcpy(&low, address.bytes.data() + 8, 8);
  return absl::HashOf(high, low);
}

ResolvedWatch::ResolvedWatch(ResolvedWatchOptions options, SnapshotPublisher* publisher,
                             AlertPipeline* pipeline)
    : options_(options), publisher_(publisher), pipeline_(pipeline) {}

void ResolvedWatch::OnResolved(const dp::ResolvedRecord& record) {
  ++stats_.received;
  // Indices are only meaningful within the indicator table of the snapshot that produced
  // them; a record from before a reload of the intelligence is not applied.
  const dp::Snapshot* current = publisher_->current();
  if (record.snapshot_version != current->version &&
      !pipeline_->SameIndicators(record.snapshot_version, current->version)) {
    ++stats_.stale_snapshot;
    return;
  }
  newest_packet_ns_ = std::max(newest_packet_ns_, record.packet_time_ns);
  const uint64_t ttl_ns = std::clamp<uint64_t>(uint64_t{record.ttl} * 1'000'000'000,
                                               options_.min_ttl_ns, options_.max_ttl_ns);
  auto it = entries_.find(record.address);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_addresses) {
      ++stats_.dropped_full;
      return;
    }
    entries_[record.address] = {record.indicator, record.packet_time_ns + ttl_ns};
    changed_ = true;
    return;
  }
  it->second.expires_ns = std::max(it->second.expires_ns, record.packet_time_ns + ttl_ns);
  if (it->second.indicator != record.indicator) {
    it->second.indicator = record.indicator;
    changed_ = true;
  }
}

std::shared_ptr<const dp::IpSet> ResolvedWatch::Rebase(const IndicatorTable& current,
                                                       const IndicatorTable& next) {
  auto key = [](const IndicatorTable& table, uint32_t index) {
    const IndicatorEntry& entry = table.entries[index];
    return absl::StrCat(table.attributes[entry.attribute].uuid, " ", entry.matched_value);
  };
  absl::flat_hash_map<std::string, uint32_t> next_domains;
  for (uint32_t i = 0; i < next.entries.size(); ++i) {
    if (next.entries[i].kind == IndicatorKind::kDomain) next_domains.emplace(key(next, i), i);
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto found = it->second.indicator < current.entries.size()
                     ? next_domains.find(key(current, it->second.indicator))
                     : next_domains.end();
    if (found == next_domains.end()) {
      entries_.erase(it++);
      ++stats_.dropped_on_reload;
    } else {
      it->second.indicator = found->second;
      ++it;
    }
  }
  stats_.watched = entries_.size();
  changed_ = false;
  if (entries_.empty()) return nullptr;
  dp::IpSetBuilder builder;
  for (const auto& [address, entry] : entries_) {
    builder.Add(address, address.IsV4() ? 32 : 128, {entry.indicator, 0, dp::kSideEither});
  }
  return std::make_shared<const dp::IpSet>(std::move(builder).Build());
}

void ResolvedWatch::Tick() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_publish_ < options_.min_publish_interval) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_ns <= newest_packet_ns_) {
      entries_.erase(it++);
      ++stats_.expired;
      changed_ = true;
    } else {
      ++it;
    }
  }
  if (!changed_) return;

  const dp::Snapshot* current = publisher_->current();
  dp::IpSetBuilder builder;
  for (const auto& [address, entry] : entries_) {
    builder.Add(address, address.IsV4() ? 32 : 128, {entry.indicator, 0, dp::kSideEither});
  }
  auto next = std::make_unique<dp::Snapshot>();
  next->version = current->version + 1;
  next->addresses = current->addresses;
  next->resolved = std::make_shared<const dp::IpSet>(std::move(builder).Build());
  next->domains = current->domains;
  next->urls = current->urls;
  next->patterns = current->patterns;
  next->indicators = current->indicators;
  pipeline_->AddSnapshot(next->version, next->indicators);
  std::unique_ptr<dp::Snapshot> previous = publisher_->Publish(std::move(next));
  if (previous != nullptr) pipeline_->RetireSnapshot(previous->version);
  stats_.watched = entries_.size();
  ++stats_.publishes;
  changed_ = false;
  last_publish_ = now;
}

}  // namespace sensor::ctl

#include "ctrlplane/ctl/top_flows.h"

#include <algorithm>

namespace sensor::ctl {
namespace {

// Orders std::push_heap and friends into a min-heap: the smallest flow sits at front().
bool LargerFlow(const dp::FlowRecord& a, const dp::FlowRecord& b) {
  return FlowBytes(a) > FlowBytes(b);
}

}  // namespace

uint64_t FlowBytes(const dp::FlowRecord& record) { return record.bytes[0] + record.bytes[1]; }

TopFlows::TopFlows(TopFlowsOptions options) : options_(options) {
  options_.bucket_ns = std::max<uint64_t>(options_.bucket_ns, 1);
  options_.window_ns = std::max(options_.window_ns, options_.bucket_ns);
  options_.per_bucket = std::max<size_t>(options_.per_bucket, 1);
  buckets_.resize(WindowBuckets());
}

uint64_t TopFlows::WindowBuckets() const {
  // One more than window / bucket, because the newest bucket is only partly filled.
  return options_.window_ns / options_.bucket_ns + 1;
}

void TopFlows::OnFlowRecord(const dp::FlowRecord& record) {
  if (!record.final) return;
  ++flows_seen_;
  const uint64_t index = record.last_ns / options_.bucket_ns;
  if (index + WindowBuckets() <= newest_index_) {
    ++flows_too_old_;
    return;
  }
  newest_index_ = std::max(newest_index_, index);
  newest_end_ns_ = std::max(newest_end_ns_, record.last_ns);

  Bucket& bucket = buckets_[index % buckets_.size()];
  if (bucket.index != index) {
    bucket.index = index;
    bucket.flows.clear();
  }
  if (bucket.flows.size() < options_.per_bucket) {
    bucket.flows.push_back(record);
    std::push_heap(bucket.flows.begin(), bucket.flows.end(), LargerFlow);
    return;
  }
  if (FlowBytes(record) <= FlowBytes(bucket.flows.front())) return;
  std::pop_heap(bucket.flows.begin(), bucket.flows.end(), LargerFlow);
  bucket.flows.back() = record;
  std::push_heap(bucket.flows.begin(), bucket.flows.end(), LargerFlow);
}

std::vector<dp::FlowRecord> TopFlows::Top(size_t count) const {
  count = std::min(count, options_.per_bucket);
  std::vector<dp::FlowRecord> flows;
  for (const Bucket& bucket : buckets_) {
    if (bucket.index == UINT64_MAX || bucket.index + WindowBuckets() <= newest_index_) continue;
    flows.insert(flows.end(), bucket.flows.begin(), bucket.flows.end());
  }
  const size_t kept = std::min(count, flows.size());
  std::partial_sort(flows.begin(), flows.begin() + static_cast<ptrdiff_t>(kept), flows.end(),
                    [](const dp::FlowRecord& a, const dp::FlowRecord& b) {
                      if (FlowBytes(a) != FlowBytes(b)) return FlowBytes(a) > FlowBytes(b);
                      return a.last_ns > b.last_ns;
                    });
  flows.resize(kept);
  return flows;
}

}  // namespace sensor::ctl

// The immutable matching state that workers read: one generation of compiled indicators.
//
// Built on the control thread, published by an atomic pointer store and freed only after
// every worker has reported a quiescent state, so workers read it without locks.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/match/domain_set.h"
#include "dataplane/match/ip_set.h"
#include "dataplane/match/url.h"
#include "dataplane/pattern/pattern_database.h"

namespace sensor::ctl {
struct IndicatorTable;
}

namespace sensor::dp {

struct Snapshot {
  uint64_t version = 0;
  // Address indicators from MISP. Shared so that a snapshot which only changes other
  // parts (the resolved addresses below) reuses the compiled set.
  std::shared_ptr<const IpSet> addresses;
  // Addresses that DNS answers gave for listed domains, each carrying the domain's
  // indicator; rebuilt as answers arrive and entries expire. May be null.
  std::shared_ptr<const IpSet> resolved;
  // Domain and hostname indicators, matched against DNS names, TLS and QUIC SNI and
  // HTTP Host; and normalised URLs, matched against HTTP request URLs. May be null.
  std::shared_ptr<const DomainSet> domains;
  std::shared_ptr<const UrlSet> urls;
  // Payload patterns with one scratch per worker; null when there are none. Shared so
  // a snapshot that only changes other parts can reuse the compiled databases.
  std::shared_ptr<const PatternDatabase> patterns;
  // Context of every indicator, by the index that rules carry. Only the control thread
  // reads it; it is shared so alerts can be resolved while a newer snapshot is live.
  std::shared_ptr<const ctl::IndicatorTable> indicators;
};

}  // namespace sensor::dp

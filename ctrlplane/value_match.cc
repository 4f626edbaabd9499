#include "ctrlplane/value_match.h"

#include <hs/hs.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctrlplane/indicator_compiler.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/match/url.h"

namespace sensor::ctl {
namespace {

struct ScratchDeleter {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};

int OnPatternHit(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
                 unsigned int /*flags*/, void* context) {
  auto* hits = static_cast<std::vector<uint32_t>*>(context);
  for (uint32_t seen : *hits) {
    if (seen == id) return 0;
  }
  hits->push_back(id);
  return 0;
}

// Splits "192.0.2.1|443" (MISP's ip-dst|port notation) into address and port.
std::pair<std::string_view, uint16_t> SplitPort(std::string_view value) {
  const size_t bar = value.rfind('|');
  if (bar == std::string_view::npos) return {value, 0};
  uint32_t port = 0;
  const std::string_view digits = value.substr(bar + 1);
  if (digits.empty() || digits.size() > 5) return {value, 0};
  for (char c : digits) {
    if (c < '0' || c > '9') return {value, 0};
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return {value, 0};
  return {value.substr(0, bar), static_cast<uint16_t>(port)};
}

}  // namespace

absl::StatusOr<ValueMatches> MatchValue(const dp::Snapshot& snapshot, std::string_view value) {
  ValueMatches out;
  auto add = [&out](std::string_view matched_as, uint32_t indicator) {
    for (const ValueMatch& known : out.matches) {
      if (known.indicator == indicator) return;
    }
    out.matches.push_back({matched_as, indicator});
  };

  // A host address of any family; the prefix floors only apply to indicators. A zone
  // (fe80::1%eth0) names an interface of the asking host, so it is left out.
  auto [address_text, port] = SplitPort(value);
  std::string zone_note;
  const size_t zone = address_text.find('%');
  if (zone != std::string_view::npos && address_text.find(':') != std::string_view::npos) {
    zone_note = absl::StrCat(" (zone ", std::string(address_text.substr(zone + 1)),
                             " left out: indicators carry no zone)");
    address_text = address_text.substr(0, zone);
  }
  CompileOptions any_prefix;
  any_prefix.min_prefix_v4 = 1;
  any_prefix.min_prefix_v6 = 1;
  absl::StatusOr<ParsedPrefix> address = ParsePrefix(address_text, any_prefix);
  const bool is_host = address.ok() && address->length == (address->address.IsV4() ? 32 : 128);
  if (address.ok() && !is_host) {
    // Traffic has addresses, not networks: which indicators a network overlaps depends on
    // the address, so ask for one.
    out.readings.push_back(absl::StrCat("network ", std::string(address_text),
                                        " (not looked up: give one address inside it)"));
  }
  if (is_host) {
    out.readings.push_back(absl::StrCat("address ", FormatAddress(address->address),
                                        port != 0 ? absl::StrCat(" port ", port) : "",
                                        zone_note));
    for (dp::MatchSide side : {dp::kSideSource, dp::kSideDestination}) {
      if (snapshot.addresses != nullptr) {
        snapshot.addresses->Match(address->address, side, port, [&](const dp::AddressRule& rule) {
          add("address", rule.indicator);
        });
      }
      if (snapshot.resolved != nullptr) {
        snapshot.resolved->Match(address->address, side, port, [&](const dp::AddressRule& rule) {
          add("resolved address", rule.indicator);
        });
      }
    }
  }

  absl::StatusOr<std::string> name = dp::CanonicalizeDomainName(value);
  if (!is_host && name.ok()) {
    out.readings.push_back(absl::StrCat("domain ", *name));
    if (snapshot.domains != nullptr) {
      snapshot.domains->MatchAllSuffixes(*name, [&](std::string_view, const dp::DomainRule& rule) {
        add("domain", rule.indicator);
      });
    }
  }

  const bool looks_like_url = value.find("://") != std::string_view::npos;
  if (looks_like_url) {
    absl::StatusOr<std::string> url = dp::NormalizeUrl(value);
    if (url.ok()) {
      out.readings.push_back(absl::StrCat("url ", *url));
      if (snapshot.urls != nullptr) {
        snapshot.urls->Match(*url, [&](const dp::UrlRule& rule) { add("url", rule.indicator); });
      }
    }
  }

  out.readings.push_back(absl::StrCat("payload of ", value.size(), " bytes"));
  if (snapshot.patterns != nullptr) {
    // A scratch space of our own: the snapshot's scratch spaces belong to the workers,
    // which may be scanning with them right now.
    hs_scratch_t* raw_scratch = nullptr;
    if (hs_alloc_scratch(snapshot.patterns->block(), &raw_scratch) != HS_SUCCESS) {
      hs_free_scratch(raw_scratch);
      return absl::ResourceExhaustedError(
          "cannot allocate a Hyperscan scratch space to match the value against the payload "
          "patterns");
    }
    std::unique_ptr<hs_scratch_t, ScratchDeleter> scratch(raw_scratch);
    std::vector<uint32_t> hits;
    hs_scan(snapshot.patterns->block(), value.data(), static_cast<unsigned>(value.size()), 0,
            scratch.get(), OnPatternHit, &hits);
    for (uint32_t indicator : hits) add("payload", indicator);
  }

  out.warninglist_type = is_host ? "ip-dst" : name.ok() ? "domain" : "pattern-in-traffic";
  if (looks_like_url) out.warninglist_type = "url";
  out.warninglist_value = std::string(is_host ? address_text : value);
  return out;
}

}  // namespace sensor::ctl

#include "ctrlplane/indicator_compiler.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/absl_bridge.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/match/domain_set.h"
#include "dataplane/match/ip_set.h"
#include "dataplane/match/url.h"

namespace sensor::ctl {
namespace {

// The address rules that one attribute type compiles to.
struct AddressType {
  std::string_view type;
  uint8_t sides;
  bool has_port;        // Value is "address|port".
  bool address_second;  // Value is "domain|address".
};

constexpr AddressType kAddressTypes[] = {
    {"ip-src", dp::kSideSource, false, false},
    {"ip-dst", dp::kSideDestination, false, false},
    {"ip-src|port", dp::kSideSource, true, false},
    {"ip-dst|port", dp::kSideDestination, true, false},
    {"domain|ip", dp::kSideEither, false, true},
};

const AddressType* FindAddressType(std::string_view type) {
  for (const AddressType& candidate : kAddressTypes) {
    if (candidate.type == type) return &candidate;
  }
  return nullptr;
}

std::string Quote(std::string_view value) {
  constexpr size_t kMaxShown = 80;
  std::string shown(value.substr(0, kMaxShown));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (value.size() > kMaxShown) shown += "...";
  return absl::StrCat("'", shown, "'");
}

absl::StatusOr<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port ", Quote(text)));
  }
  return static_cast<uint16_t>(value);
}

bool IsMappedV4(const in6_addr& address) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, kPrefix, sizeof(kPrefix)) == 0;
}

}  // namespace

uint64_t CompileStats::loaded() const {
  uint64_t total = 0;
  for (const auto& [type, count] : loaded_by_type) total += count;
  return total;
}

absl::StatusOr<ParsedPrefix> ParsePrefix(std::string_view text, const CompileOptions& options) {
  const std::string value(absl::StripAsciiWhitespace(ToAbsl(text)));
  const size_t slash = value.find('/');
  const std::string address_text = value.substr(0, slash);
  int length = -1;
  if (slash != std::string::npos) {
    const std::string_view length_text = std::string_view(value).substr(slash + 1);
    const auto [end, error] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (error != std::errc() || end != length_text.data() + length_text.size() ||
        length_text.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid prefix length in ", Quote(text)));
    }
  }

  ParsedPrefix prefix;
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, address_text.c_str(), &v4) == 1) {
    if (length == -1) length = 32;
    if (length > 32) {
      return absl::InvalidArgumentError(absl::StrCat("prefix length above 32 in ", Quote(text)));
    }
    prefix.address = dp::IpAddress::FromV4(ntohl(v4.s_addr));
    prefix.length = length;
  } else if (inet_pton(AF_INET6, address_text.c_str(), &v6) == 1) {
    if (length == -1) length = 128;
    if (length > 128) {
      return absl::InvalidArgumentError(absl::StrCat("prefix length above 128 in ", Quote(text)));
    }
    // ::ffff:0:0/96 and longer name IPv4 space. Matching them as IPv6 would never hit
    // IPv4 traffic, and treating /96 as "any" would match all of IPv4.
    if (IsMappedV4(v6) && length >= 96) {
      uint32_t host = 0;
      for (int i = 12; i < 16; ++i) host = host << 8 | v6.s6_addr[i];
      prefix.address = dp::IpAddress::FromV4(host);
      prefix.length = length - 96;
    } else {
      std::memcpy(prefix.address.bytes.data(), v6.s6_addr, 16);
      prefix.length = length;
      if (prefix.address.IsV4()) {
        return absl::InvalidArgumentError(
            absl::StrCat("IPv4-mapped prefix shorter than /96 in ", Quote(text)));
      }
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid IP address ", Quote(text)));
  }

  const bool is_v4 = prefix.address.IsV4();
  const int floor = std::max(1, is_v4 ? options.min_prefix_v4 : options.min_prefix_v6);
  if (prefix.length < floor) {
    return absl::InvalidArgumentError(
        absl::StrFormat("prefix %s is broader than the minimum /%d", Quote(text), floor));
  }
  prefix.address = is_v4 ? dp::IpAddress::FromV4(dp::MaskV4(prefix.address.v4(), prefix.length))
                         : dp::MaskV6(prefix.address, prefix.length);
  return prefix;
}

std::string FormatAddress(const dp::IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address.IsV4()) {
    const uint32_t network = htonl(address.v4());
    inet_ntop(AF_INET, &network, buffer, sizeof(buffer));
  } else {
    inet_ntop(AF_INET6, address.bytes.data(), buffer, sizeof(buffer));
  }
  return buffer;
}

std::string FormatPrefix(const ParsedPrefix& prefix) {
  const int host_length = prefix.address.IsV4() ? 32 : 128;
  if (prefix.length == host_length) return FormatAddress(prefix.address);
  return absl::StrCat(FormatAddress(prefix.address), "/", prefix.length);
}

CompileResult CompileIndicators(misp::LoadResult loaded, const CompileOptions& options,
                                uint64_t version) {
  CompileResult result;
  CompileStats& stats = result.stats;
  auto table = std::make_shared<IndicatorTable>();
  stats.events = loaded.events.size();
  stats.attributes = loaded.attributes.size() + loaded.rejected_attributes;
  stats.rejected = loaded.rejected_attributes;
  stats.errors = std::move(loaded.errors);

  dp::IpSetBuilder builder;
  dp::DomainSetBuilder domain_builder;
  dp::UrlSetBuilder url_builder;
  bool any_domain = false;
  bool any_url = false;
  std::vector<dp::PatternSource> patterns;
  auto add_entry = [&](misp::Attribute& attribute, IndicatorEntry entry) {
    const misp::Event& event = loaded.events[attribute.event_index];
    entry.attribute = static_cast<uint32_t>(table->attributes.size());
    entry.tlp = MostRestrictiveTlp(attribute.tags)
                    .value_or(MostRestrictiveTlp(event.tags).value_or(options.default_tlp));
    table->entries.push_back(std::move(entry));
    table->attributes.push_back(std::move(attribute));
    ++stats.loaded_by_type[table->attributes.back().type];
    return static_cast<uint32_t>(table->entries.size() - 1);
  };

  for (misp::Attribute& attribute : loaded.attributes) {
    const AddressType* address_type = FindAddressType(attribute.type);
    const bool is_pattern = attribute.type == "pattern-in-traffic";
    const bool is_domain = attribute.type == "domain" || attribute.type == "hostname";
    const bool is_url = attribute.type == "url";
    if (address_type == nullptr && !is_pattern && !is_domain && !is_url) {
      ++stats.not_matched_by_type[attribute.type];
      continue;
    }
    if (attribute.deleted) {
      ++stats.skipped_deleted;
      continue;
    }
    if (!attribute.to_ids && !options.include_non_ids) {
      ++stats.skipped_not_ids;
      continue;
    }
    if (options.warninglists != nullptr) {
      const std::vector<size_t> hits = options.warninglists->Screen(attribute.type, attribute.value);
      if (!hits.empty()) {
        ++stats.warninglisted;
        WarninglistedAttribute& removed = result.warninglisted.emplace_back();
        removed.input_index = static_cast<uint32_t>(&attribute - loaded.attributes.data());
        for (size_t list : hits) {
          const std::string& name = options.warninglists->lists()[list].name;
          ++stats.warninglisted_by_list[name];
          removed.lists.push_back(name);
        }
        continue;
      }
    }
    if (is_domain || is_url) {
      absl::StatusOr<std::string> canonical = is_domain
                                                  ? dp::CanonicalizeDomainName(attribute.value)
                                                  : dp::NormalizeUrl(attribute.value);
      if (!canonical.ok()) {
        stats.errors.push_back(absl::StrFormat(
            "%s: attribute %s (%s): %s", loaded.events[attribute.event_index].source,
            attribute.uuid, attribute.type, canonical.status().message()));
        ++stats.rejected;
        continue;
      }
      IndicatorEntry entry;
      entry.kind = is_domain ? IndicatorKind::kDomain : IndicatorKind::kUrl;
      entry.matched_value = *canonical;
      const bool hostname = attribute.type == "hostname";
      const uint32_t index = add_entry(attribute, std::move(entry));
      any_domain |= is_domain;
      any_url |= is_url;
      if (is_domain) {
        (void)domain_builder.Add(
            *canonical, hostname ? dp::DomainMatchKind::kHostname : dp::DomainMatchKind::kDomain,
            index);
      } else {
        (void)url_builder.Add(*canonical, index);
      }
      continue;
    }
    if (is_pattern) {
      const std::string name =
          absl::StrCat(loaded.events[attribute.event_index].source, ": attribute ", attribute.uuid);
      IndicatorEntry entry;
      entry.kind = IndicatorKind::kPattern;
      entry.matched_value = attribute.value;
      const std::string value = attribute.value;
      const uint32_t index = add_entry(attribute, std::move(entry));
      patterns.push_back(dp::PatternFromMispValue(value, index, name));
      continue;
    }

    std::string_view address_text = attribute.value;
    std::string domain_part;  // The domain of a domain|ip pair.
    uint16_t port = 0;
    absl::Status status;
    const size_t bar = address_text.find('|');
    if (address_type->has_port || address_type->address_second) {
      if (bar == std::string_view::npos) {
        status = absl::InvalidArgumentError(
            absl::StrCat("expected two values separated by '|' in ", Quote(attribute.value)));
      } else if (address_type->has_port) {
        absl::StatusOr<uint16_t> parsed_port = ParsePort(address_text.substr(bar + 1));
        if (parsed_port.ok()) port = *parsed_port;
        status = parsed_port.status();
        address_text = address_text.substr(0, bar);
      } else {
        address_text = address_text.substr(bar + 1);
        domain_part = attribute.value.substr(0, bar);
      }
    }
    absl::StatusOr<ParsedPrefix> prefix =
        status.ok() ? ParsePrefix(address_text, options) : absl::StatusOr<ParsedPrefix>(status);
    if (!prefix.ok()) {
      const misp::Event& event = loaded.events[attribute.event_index];
      stats.errors.push_back(absl::StrFormat("%s: attribute %s (%s): %s", event.source,
                                             attribute.uuid, attribute.type,
                                             prefix.status().message()));
      ++stats.rejected;
      continue;
    }

    IndicatorEntry entry;
    entry.matched_value = FormatPrefix(*prefix);
    entry.port = port;
    dp::AddressRule rule;
    rule.port = port;
    rule.sides = address_type->sides;
    rule.indicator = add_entry(attribute, std::move(entry));
    builder.Add(prefix->address, prefix->length, rule);
    if (!domain_part.empty()) {
      // The domain of a domain|ip pair matches like a `domain` attribute, with the same
      // context; an unusable domain leaves the address part in place.
      absl::StatusOr<std::string> canonical = dp::CanonicalizeDomainName(domain_part);
      if (canonical.ok() &&
          domain_builder.Add(*canonical, dp::DomainMatchKind::kDomain, rule.indicator).ok()) {
        any_domain = true;
      }
    }
  }
  table->events = std::move(loaded.events);

  result.snapshot = std::make_unique<dp::Snapshot>();
  result.snapshot->version = version;
  result.snapshot->addresses = std::make_shared<const dp::IpSet>(std::move(builder).Build());
  if (any_domain) {
    result.snapshot->domains =
        std::make_shared<const dp::DomainSet>(std::move(domain_builder).Build());
  }
  if (any_url) {
    result.snapshot->urls = std::make_shared<const dp::UrlSet>(std::move(url_builder).Build());
  }
  if (!patterns.empty()) {
    std::vector<dp::RejectedPattern> rejected;
    absl::StatusOr<std::unique_ptr<dp::PatternDatabase>> database =
        dp::PatternDatabase::Compile(patterns, std::max<uint32_t>(options.workers, 1), rejected);
    // A rejected pattern keeps its table entry (indices stay stable) but never matches,
    // so it counts as rejected, not loaded.
    const auto reject = [&](uint32_t indicator) {
      IndicatorEntry& entry = table->entries[indicator];
      if (!entry.compiled) return;
      entry.compiled = false;
      --stats.loaded_by_type[table->attributes[entry.attribute].type];
      ++stats.rejected;
    };
    for (dp::RejectedPattern& pattern : rejected) {
      reject(pattern.indicator);
      stats.errors.push_back(std::move(pattern.message));
    }
    if (database.ok()) {
      result.snapshot->patterns = std::move(*database);
    } else {
      // Without a database no pattern matches.
      for (const dp::PatternSource& pattern : patterns) reject(pattern.indicator);
      stats.errors.push_back(std::string(ToStd(database.status().message())));
    }
  }
  result.snapshot->indicators = std::move(table);
  return result;
}

}  // namespace sensor::ctl

#include "ctrlplane/warninglist/warninglist_index.h"

#include <arpa/inet.h>
#include <hs/hs.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/absl_bridge.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/match/url.h"
#include "dataplane/pattern/pattern_database.h"
#include "fmt/format.h"

namespace sensor::ctl {
namespace {

using dp::internal::QuoteForMessage;

// Lines per list for skipped entries; the rest are summed up in one more line.
constexpr size_t kMaxEntryErrorsPerList = 5;

// Bytes 0-11 of an IPv4-mapped IPv6 address (RFC 4291 section 2.5.5.2).
constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
constexpr uint8_t kMappedPrefixLength = 96;

// Attribute types whose value is a URL, and those whose value is an e-mail address.
constexpr std::string_view kUrlTypes[] = {"url", "uri", "link"};
constexpr std::string_view kEmailTypes[] = {
    "email",          "email-src",    "email-dst", "target-email", "whois-registrant-email",
    "email-reply-to", "dns-soa-email"};

template <size_t N>
bool IsOneOf(std::string_view type, const std::string_view (&types)[N]) {
  return std::find(std::begin(types), std::end(types), type) != std::end(types);
}

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + ('a' - 'A'));
    }
  }
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= ' ') text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= ' ') text.remove_suffix(1);
  return text;
}

// One part of an attribute value with the type of that part.
struct ValuePart {
  std::string_view type;
  std::string_view value;
};

// Splits composite values at the first "|", as MISP does before checking warninglists.
// malware-sample values are "filename|md5".
std::vector<ValuePart> SplitValue(std::string_view type, std::string_view value) {
  const bool composite = type.find('|') != std::string_view::npos || type == "malware-sample";
  const size_t bar = value.find('|');
  if (!composite || bar == std::string_view::npos) {
    return {{type, value}};
  }
  std::string_view first_type = "filename";
  std::string_view second_type = "md5";
  if (const size_t type_bar = type.find('|'); type_bar != std::string_view::npos) {
    first_type = type.substr(0, type_bar);
    second_type = type.substr(type_bar + 1);
  }
  return {{first_type, value.substr(0, bar)}, {second_type, value.substr(bar + 1)}};
}

// Returns the host a part names: a URL's host without IPv6 brackets, the domain of an
// e-mail address, or else the part itself.
std::string HostOf(const ValuePart& part) {
  const std::string_view value = Trim(part.value);
  if (IsOneOf(part.type, kUrlTypes) || value.find("://") != std::string_view::npos) {
    absl::StatusOr<std::string> url = dp::NormalizeUrl(value);
    if (!url.ok()) {
      return "";
    }
    std::string_view host = dp::SplitNormalizedUrl(*url).host;
    if (host.starts_with('[') && host.ends_with(']')) {
      host = host.substr(1, host.size() - 2);
    }
    return std::string(host);
  }
  if (IsOneOf(part.type, kEmailTypes)) {
    const size_t at = value.rfind('@');
    return std::string(at == std::string_view::npos ? value : value.substr(at + 1));
  }
  return std::string(value);
}

struct Pattern {
  std::string expression;
  unsigned flags = 0;
  uint32_t list = 0;
  std::string entry;  // As written in list.json, for messages.
};

// Adds the Hyperscan flags of one PCRE modifier to `flags`.
absl::Status ApplyModifier(char modifier, unsigned& flags) {
  switch (modifier) {
    case 'i':
      flags |= HS_FLAG_CASELESS;
      return absl::OkStatus();
    case 'm':
      flags |= HS_FLAG_MULTILINE;
      return absl::OkStatus();
    case 's':
      flags |= HS_FLAG_DOTALL;
      return absl::OkStatus();
    case 'u':
      flags |= HS_FLAG_UTF8 | HS_FLAG_UCP;
      return absl::OkStatus();
    case 'g':
      return absl::OkStatus();  // JavaScript's "global" flag, which a yes/no match ignores.
    default:
      return absl::InvalidArgumentError(fmt::format(
          "modifier {} is not supported", QuoteForMessage(std::string_view(&modifier, 1))));
  }
}

// Returns the closing delimiter for `opening`: its partner for brackets, else itself.
char ClosingDelimiter(char opening) {
  switch (opening) {
    case '(':
      return ')';
    case '[':
      return ']';
    case '{':
      return '}';
    case '<':
      return '>';
    default:
      return opening;
  }
}

// Splits a PCRE-style "/expression/flags" pattern. As in PHP's preg functions, the
// delimiter is the first character unless that is alphanumeric, a backslash or
// whitespace. Any other entry is a bare expression without flags.
absl::StatusOr<Pattern> ParsePcrePattern(std::string_view entry) {
  Pattern pattern;
  pattern.entry = std::string(entry);
  pattern.flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
  const auto first = static_cast<unsigned char>(entry.empty() ? 'a' : entry.front());
  if (std::isalnum(first) || first == '\\' || std::isspace(first)) {
    pattern.expression = std::string(entry);
    return pattern;
  }

  const char closing = ClosingDelimiter(static_cast<char>(first));
  const size_t end = entry.rfind(closing);
  if (end == 0 || end == std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("no closing delimiter {}", QuoteForMessage(std::string_view(&closing, 1))));
  }
  pattern.expression = std::string(entry.substr(1, end - 1));
  for (char modifier : entry.substr(end + 1)) {
    if (absl::Status status = ApplyModifier(modifier, pattern.flags); !status.ok()) {
      return status;
    }
  }
  return pattern;
}

}  // namespace

// State while Build() runs.
struct WarninglistIndex::Builder {
  Builder(WarninglistIndex& index, std::vector<std::string>& errors)
      : index(index), errors(errors) {}

  WarninglistIndex& index;
  std::vector<std::string>& errors;
  dp::DomainSetBuilder hostnames;
  dp::StringTableBuilder strings;
  std::vector<Pattern> substrings;
  std::vector<Pattern> regexes;
  absl::flat_hash_set<uint8_t> v4_lengths;
  absl::flat_hash_set<uint8_t> v6_lengths;
  size_t entry_errors = 0;  // For the list being added.

  void SkipEntry(const WarninglistInfo& list, std::string_view entry, std::string_view reason) {
    if (++entry_errors <= kMaxEntryErrorsPerList) {
      errors.push_back(fmt::format("warninglist {} ({}): entry {} skipped: {}",
                                   QuoteForMessage(list.name), list.source, QuoteForMessage(entry),
                                   reason));
    }
  }

  void FinishList(const WarninglistInfo& list) {
    if (entry_errors > kMaxEntryErrorsPerList) {
      errors.push_back(fmt::format("warninglist {} ({}): {} more entries skipped",
                                   QuoteForMessage(list.name), list.source,
                                   entry_errors - kMaxEntryErrorsPerList));
    }
    entry_errors = 0;
  }

  // Adds one entry of list `list_index`; returns whether it was kept.
  bool AddEntry(uint32_t list_index, std::string_view entry) {
    const WarninglistInfo& list = index.lists_[list_index];
    switch (list.type) {
      case WarninglistType::kCidr: {
        std::optional<Block> block = ParseBlock(entry);
        if (!block.has_value()) {
          SkipEntry(list, entry, "not an IPv4 or IPv6 address or CIDR");
          return false;
        }
        (block->v4 ? v4_lengths : v6_lengths).insert(block->length);
        std::vector<uint32_t>& owners = index.blocks_[*block];
        if (owners.empty() || owners.back() != list_index) {
          owners.push_back(list_index);
        }
        return true;
      }
      case WarninglistType::kHostname: {
        // MISP strips dots at both ends of hostname entries (".example.com").
        std::string_view name = Trim(entry);
        while (name.starts_with('.')) name.remove_prefix(1);
        absl::StatusOr<std::string> canonical = dp::CanonicalizeDomainName(name);
        if (!canonical.ok()) {
          SkipEntry(list, entry, ToStd(canonical.status().message()));
          return false;
        }
        const absl::Status added =
            hostnames.Add(*canonical, dp::DomainMatchKind::kDomain, list_index);
        if (!added.ok()) {
          SkipEntry(list, entry, ToStd(added.message()));
          return false;
        }
        return true;
      }
      case WarninglistType::kString: {
        const absl::Status added = strings.Add(ToLowerAscii(entry), 0, list_index);
        if (!added.ok()) {
          SkipEntry(list, entry, ToStd(added.message()));
          return false;
        }
        return true;
      }
      case WarninglistType::kSubstring: {
        Pattern pattern;
        pattern.expression = dp::EscapeLiteral(entry);
        pattern.flags = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
        pattern.list = list_index;
        pattern.entry = std::string(entry);
        substrings.push_back(std::move(pattern));
        return true;
      }
      case WarninglistType::kRegex: {
        absl::StatusOr<Pattern> pattern = ParsePcrePattern(entry);
        if (!pattern.ok()) {
          errors.push_back(fmt::format("warninglist {} ({}): regex {} skipped: {}",
                                       QuoteForMessage(list.name), list.source,
                                       QuoteForMessage(entry), ToStd(pattern.status().message())));
          return false;
        }
        pattern->list = list_index;
        regexes.push_back(*std::move(pattern));
        return true;
      }
    }
    return false;
  }

  // Compiles `patterns` into one database. A pattern Hyperscan rejects is reported,
  // removed and the rest compiled again. The entry counts of the lists drop accordingly.
  Database Compile(std::vector<Pattern>& patterns, std::string_view kind) {
    while (!patterns.empty()) {
      std::vector<const char*> expressions;
      std::vector<unsigned> flags;
      std::vector<unsigned> ids;
      for (const Pattern& pattern : patterns) {
        expressions.push_back(pattern.expression.c_str());
        flags.push_back(pattern.flags);
        ids.push_back(pattern.list);
      }
      hs_database_t* database = nullptr;
      hs_compile_error_t* error = nullptr;
      const auto count = static_cast<unsigned>(patterns.size());
      const hs_error_t result = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                                 count, HS_MODE_BLOCK, nullptr, &database, &error);
      if (result == HS_SUCCESS) {
        return Database(database);
      }
      const std::string message = error != nullptr ? error->message : "unknown error";
      const int failed = error != nullptr ? error->expression : -1;
      hs_free_compile_error(error);
      if (failed < 0 || static_cast<size_t>(failed) >= patterns.size()) {
        errors.push_back(fmt::format(
            "Hyperscan failed to compile the {} {} patterns of the warninglists, which are "
            "skipped: {}",
            patterns.size(), kind, message));
        for (const Pattern& pattern : patterns) {
          --index.lists_[pattern.list].entry_count;
        }
        patterns.clear();
        break;
      }
      const Pattern& rejected = patterns[static_cast<size_t>(failed)];
      const WarninglistInfo& list = index.lists_[rejected.list];
      errors.push_back(fmt::format(
          "warninglist {} ({}): {} {} skipped: Hyperscan cannot compile it: {}",
          QuoteForMessage(list.name), list.source, kind, QuoteForMessage(rejected.entry), message));
      --index.lists_[rejected.list].entry_count;
      patterns.erase(patterns.begin() + failed);
    }
    return Database();
  }
};

void WarninglistIndex::DatabaseDeleter::operator()(hs_database* database) const {
  hs_free_database(database);
}

void WarninglistIndex::ScratchDeleter::operator()(hs_scratch* scratch) const {
  hs_free_scratch(scratch);
}

WarninglistIndex::WarninglistIndex(WarninglistIndex&&) noexcept = default;
WarninglistIndex& WarninglistIndex::operator=(WarninglistIndex&&) noexcept = default;
WarninglistIndex::~WarninglistIndex() = default;

absl::StatusOr<WarninglistIndex> WarninglistIndex::Build(std::vector<Warninglist> lists,
                                                         const WarninglistOptions& options,
                                                         std::vector<std::string>& errors) {
  WarninglistIndex index;
  Builder builder(index, errors);
  index.lists_.reserve(lists.size());
  for (Warninglist& list : lists) {
    WarninglistInfo info;
    info.folder = std::move(list.folder);
    info.name = std::move(list.name);
    info.description = std::move(list.description);
    info.category = std::move(list.category);
    info.version = list.version;
    info.type = list.type;
    info.matching_attributes = std::move(list.matching_attributes);
    info.source = std::move(list.source);
    index.matching_types_.emplace_back(info.matching_attributes.begin(),
                                       info.matching_attributes.end());
    index.lists_.push_back(std::move(info));

    const auto list_index = static_cast<uint32_t>(index.lists_.size() - 1);
    for (const std::string& entry : list.entries) {
      if (builder.AddEntry(list_index, entry)) {
        ++index.lists_[list_index].entry_count;
      }
    }
    builder.FinishList(index.lists_[list_index]);
    list.entries = {};
  }

  index.v4_lengths_.assign(builder.v4_lengths.begin(), builder.v4_lengths.end());
  std::sort(index.v4_lengths_.begin(), index.v4_lengths_.end());
  index.v6_lengths_.assign(builder.v6_lengths.begin(), builder.v6_lengths.end());
  std::sort(index.v6_lengths_.begin(), index.v6_lengths_.end());
  index.hostnames_ = std::move(builder.hostnames).Build();
  index.strings_ = std::move(builder.strings).Build();
  index.substrings_ = builder.Compile(builder.substrings, "substring");
  index.regexes_ = builder.Compile(builder.regexes, "regex");

  for (const Database* database : {&index.substrings_, &index.regexes_}) {
    if (*database == nullptr) {
      continue;
    }
    hs_scratch_t* scratch = index.scratch_.release();
    if (hs_alloc_scratch(database->get(), &scratch) != HS_SUCCESS) {
      hs_free_scratch(scratch);
      return absl::ResourceExhaustedError("failed to allocate Hyperscan scratch space");
    }
    index.scratch_.reset(scratch);
  }

  for (const std::string& name : options.disabled) {
    if (absl::Status status = index.SetEnabled(name, false); !status.ok()) {
      errors.emplace_back(status.message());
    }
  }
  return index;
}

std::optional<WarninglistIndex::Block> WarninglistIndex::ParseBlock(std::string_view text) {
  text = Trim(text);
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  char buffer[INET6_ADDRSTRLEN];
  if (address.empty() || address.size() >= sizeof(buffer)) {
    return std::nullopt;
  }
  std::memcpy(buffer, address.data(), address.size());
  buffer[address.size()] = '\0';

  Block block;
  int max_length = 0;
  if (inet_pton(AF_INET, buffer, block.bytes.data()) == 1) {
    block.v4 = true;
    max_length = 32;
  } else if (inet_pton(AF_INET6, buffer, block.bytes.data()) == 1) {
    max_length = 128;
  } else {
    return std::nullopt;
  }
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        length < 0 || length > max_length) {
      return std::nullopt;
    }
  }
  block.length = static_cast<uint8_t>(length);
  if (!block.v4 && block.length >= kMappedPrefixLength &&
      std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), block.bytes.begin())) {
    std::memmove(block.bytes.data(), block.bytes.data() + kMappedPrefix.size(), 4);
    block.v4 = true;
    block.length = static_cast<uint8_t>(block.length - kMappedPrefixLength);
  }
  return Mask(block, block.length);
}

WarninglistIndex::Block WarninglistIndex::Mask(const Block& block, uint8_t length) {
  Block masked;
  masked.v4 = block.v4;
  masked.length = length;
  const size_t total_bytes = block.v4 ? 4 : 16;
  for (size_t i = 0; i < total_bytes; ++i) {
    const int bits = std::clamp(static_cast<int>(length) - static_cast<int>(i) * 8, 0, 8);
    masked.bytes[i] = static_cast<uint8_t>(block.bytes[i] & (0xFF00 >> bits));
  }
  return masked;
}

void WarninglistIndex::CollectCidrHits(std::string_view text, std::vector<bool>& hits) const {
  std::optional<Block> value = ParseBlock(text);
  if (!value.has_value()) {
    return;
  }
  for (uint8_t length : value->v4 ? v4_lengths_ : v6_lengths_) {
    if (length > value->length) {
      break;  // A listed block longer than the value cannot contain it.
    }
    auto it = blocks_.find(Mask(*value, length));
    if (it == blocks_.end()) {
      continue;
    }
    for (uint32_t list : it->second) {
      hits[list] = true;
    }
  }
}

void WarninglistIndex::CollectHostnameHits(std::string_view text, std::vector<bool>& hits) const {
  if (hostnames_.name_count() == 0 || ParseBlock(text).has_value()) {
    return;
  }
  absl::StatusOr<std::string> name = dp::CanonicalizeDomainName(text);
  if (!name.ok()) {
    return;
  }
  hostnames_.MatchAllSuffixes(
      *name, [&](std::string_view, const dp::DomainRule& rule) { hits[rule.indicator] = true; });
}

void WarninglistIndex::CollectStringHits(std::string_view text, std::vector<bool>& hits) const {
  if (strings_.key_count() == 0) {
    return;
  }
  const std::string key = ToLowerAscii(text);
  dp::StringTable::Entry entry;
  if (!strings_.Find(dp::HashString(key), key, entry)) {
    return;
  }
  for (uint32_t i = 0; i < entry.groups[0].size(); ++i) {
    hits[entry.groups[0][i]] = true;
  }
}

void WarninglistIndex::ScanDatabase(const Database& database, std::string_view text,
                                    std::vector<bool>& hits) const {
  if (database == nullptr) {
    return;
  }
  auto on_match = [](unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
                     unsigned int /*flags*/, void* context) -> int {
    (*static_cast<std::vector<bool>*>(context))[id] = true;
    return 0;
  };
  // Hyperscan takes an unsigned int length; longer values are screened on their start.
  const auto length = static_cast<unsigned int>(
      std::min<size_t>(text.size(), std::numeric_limits<unsigned int>::max()));
  const hs_error_t result = hs_scan(database.get(), text.empty() ? "" : text.data(), length, 0,
                                    scratch_.get(), on_match, &hits);
  if (result != HS_SUCCESS) {
    ++scan_failures_;
  }
}

void WarninglistIndex::CollectHits(std::string_view type, std::string_view value,
                                   std::vector<bool>& hits) const {
  for (const ValuePart& part : SplitValue(type, value)) {
    const std::string host = HostOf(part);
    CollectCidrHits(host, hits);
    CollectHostnameHits(host, hits);
    CollectStringHits(part.value, hits);
    ScanDatabase(substrings_, part.value, hits);
    ScanDatabase(regexes_, part.value, hits);
  }
}

std::vector<size_t> WarninglistIndex::ApplicableHits(std::string_view type,
                                                     const std::vector<bool>& hits) const {
  std::vector<size_t> applicable;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (!hits[i] || !lists_[i].enabled) {
      continue;
    }
    if (matching_types_[i].empty() || matching_types_[i].contains(ToAbsl(type))) {
      applicable.push_back(i);
    }
  }
  return applicable;
}

std::vector<size_t> WarninglistIndex::Screen(std::string_view type, std::string_view value) {
  std::vector<bool> hits(lists_.size());
  CollectHits(type, value, hits);
  std::vector<size_t> applicable = ApplicableHits(type, hits);
  for (size_t i : applicable) {
    ++lists_[i].hits;
  }
  return applicable;
}

std::vector<std::string> WarninglistIndex::Explain(std::string_view type,
                                                   std::string_view value) const {
  std::vector<bool> hits(lists_.size());
  CollectHits(type, value, hits);
  std::vector<std::string> names;
  for (size_t i : ApplicableHits(type, hits)) {
    names.push_back(lists_[i].name);
  }
  return names;
}

std::optional<size_t> WarninglistIndex::FindList(std::string_view name_or_folder) const {
  for (size_t i = 0; i < lists_.size(); ++i) {
    if (lists_[i].name == name_or_folder || lists_[i].folder == name_or_folder) {
      return i;
    }
  }
  return std::nullopt;
}

absl::Status WarninglistIndex::SetEnabled(std::string_view name_or_folder, bool enabled) {
  std::optional<size_t> list = FindList(name_or_folder);
  if (!list.has_value()) {
    return absl::NotFoundError(
        fmt::format("no warninglist has the name or folder {}", QuoteForMessage(name_or_folder)));
  }
  lists_[*list].enabled = enabled;
  return absl::OkStatus();
}

}  // namespace sensor::ctl

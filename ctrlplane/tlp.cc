#include "ctrlplane/tlp.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "ctrlplane/absl_bridge.h"

namespace sensor::ctl {

std::optional<Tlp> TlpFromName(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(name)));
  std::string_view level = lower;
  if (level.starts_with("tlp:")) level.remove_prefix(4);
  if (level == "clear" || level == "white") return Tlp::kClear;
  if (level == "green") return Tlp::kGreen;
  if (level == "amber") return Tlp::kAmber;
  if (level == "amber+strict") return Tlp::kAmberStrict;
  if (level == "red") return Tlp::kRed;
  return std::nullopt;
}

std::optional<Tlp> TlpFromTag(std::string_view tag) {
  if (!absl::StartsWithIgnoreCase(absl::StripAsciiWhitespace(ToAbsl(tag)), "tlp:")) {
    return std::nullopt;
  }
  return TlpFromName(tag);
}

std::string_view TlpName(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear:
      return "clear";
    case Tlp::kGreen:
      return "green";
    case Tlp::kAmber:
      return "amber";
    case Tlp::kAmberStrict:
      return "amber+strict";
    case Tlp::kRed:
      return "red";
  }
  return "red";
}

std::string_view TlpEcsName(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear:
      return "CLEAR";
    case Tlp::kGreen:
      return "GREEN";
    case Tlp::kAmber:
      return "AMBER";
    case Tlp::kAmberStrict:
      return "AMBER+STRICT";
    case Tlp::kRed:
      return "RED";
  }
  return "RED";
}

std::optional<Tlp> MostRestrictiveTlp(std::span<const std::string> tags) {
  std::optional<Tlp> result;
  for (const std::string& tag : tags) {
    const std::optional<Tlp> tlp = TlpFromTag(tag);
    if (tlp && (!result || *tlp > *result)) result = tlp;
  }
  return result;
}

}  // namespace sensor::ctl

// Traffic Light Protocol levels as MISP tags them, ordered from least to most restrictive.
//
// TLP 1.0 "white" and TLP 2.0 "clear" are the same level. Tag names compare without
// regard to case because feeds write both "tlp:green" and "TLP:GREEN".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sensor::ctl {

enum class Tlp : uint8_t { kClear = 0, kGreen, kAmber, kAmberStrict, kRed };

// Parses a MISP tag such as "tlp:amber+strict"; nullopt if the tag is not a TLP tag.
std::optional<Tlp> TlpFromTag(std::string_view tag);
// Parses a level name as used in configuration: "clear", "white", "green", "amber",
// "amber+strict" or "red", in any case, with or without the "tlp:" prefix.
std::optional<Tlp> TlpFromName(std::string_view name);

// Lower-case TLP 2.0 name, for example "amber+strict".
std::string_view TlpName(Tlp tlp);
// Upper-case form used by ECS threat.indicator.marking.tlp, for example "AMBER+STRICT".
std::string_view TlpEcsName(Tlp tlp);

// The most restrictive TLP among `tags`, or nullopt if none is a TLP tag.
std::optional<Tlp> MostRestrictiveTlp(std::span<const std::string> tags);

}  // namespace sensor::ctl

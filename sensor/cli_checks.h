// Command-line checks for numeric options, with messages a person can act on.
//
// CLI11's NonNegativeNumber and PositiveNumber accept "nan" and "inf", accept values so
// large that a later conversion to nanoseconds overflows, and report a failure as a range
// of 309 digits. These accept finite decimal numbers within stated bounds only.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

#include "fmt/format.h"

namespace sensor {

// A finite number from `low` to `high`; with `low_open`, `low` itself is rejected.
// `unit` names what the number counts, for the message ("seconds", "times").
inline CLI::Validator NumberBetween(double low, double high, bool low_open = false,
                                    const char* unit = "") {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const char* begin = text.c_str();
        char* end = nullptr;
        const double value = std::strtod(begin, &end);
        const bool parsed = end != begin && *end == '\0';
        const bool fits = parsed && std::isfinite(value) &&
                          (low_open ? value > low : value >= low) && value <= high;
        if (fits) return "";
        const std::string description =
            *unit == '\0' ? "a number" : fmt::format("a number of {}", unit);
        return fmt::format("'{}' is not {} {} {} {} {}", text, description,
                           low_open ? "above" : "from", low, low_open ? "and up to" : "to", high);
      },
      fmt::format("{}{}..{}", low_open ? ">" : "", low, high));
}

// Seconds for timeouts, windows and intervals: from 0 (or above 0) to about 31 years,
// which keeps every conversion to nanoseconds within 64 bits.
inline CLI::Validator Seconds(bool zero_allowed = true) {
  return NumberBetween(0, 1e9, !zero_allowed, "seconds");
}

// Replay pace: 0 (as fast as possible) or a factor of the recorded rate from 0.001 to
// 1000000, so that the longest gap of a capture, once scaled, still fits in 64 bits of
// nanoseconds.
inline CLI::Validator Speed() {
  const CLI::Validator factor = NumberBetween(0.001, 1e6, false, "times the recorded rate");
  return CLI::Validator(
      [factor](std::string& text) -> std::string {
        if (text == "0") return "";
        std::string message = factor(text);
        return message.empty() ? "" : message + " (or 0: as fast as possible)";
      },
      "0 or 0.001..1000000");
}

}  // namespace sensor

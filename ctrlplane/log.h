// Control-plane logging: one line per event on stderr, "level=... component=..." followed
// by key=value fields formatted with fmt.
//
// Control thread and startup code only; workers count instead of logging. Messages that
// can repeat are limited per call site by RateLimitedLog.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sensor::ctl {

// Makes text from MISP or traffic safe for a terminal: control characters become '?', so
// the text cannot move the cursor, change the title or forge lines. Text longer than
// `max_shown` bytes is cut and ends in "...".
std::string ForTerminal(std::string_view text, size_t max_shown = 120);

enum class LogLevel : uint8_t { kError = 0, kWarn, kInfo, kDebug };

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void WriteLogLine(LogLevel level, std::string_view component, std::string_view message);

template <typename... Args>
void Log(LogLevel level, std::string_view component, fmt::format_string<Args...> format,
         Args&&... args) {
  if (!LogEnabled(level)) return;
  WriteLogLine(level, component, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void LogError(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Log(LogLevel::kError, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void LogWarn(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Log(LogLevel::kWarn, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void LogInfo(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Log(LogLevel::kInfo, component, format, std::forward<Args>(args)...);
}

// Lets the first `burst` messages through, then at most one per `interval`, and reports
// how many were held back in between.
class RateLimitedLog {
 public:
  RateLimitedLog(uint32_t burst, std::chrono::seconds interval)
      : burst_(burst), interval_(interval) {}

  // Returns true if a message may be written now; `suppressed` receives the number of
  // messages held back since the last one written.
  bool Allow(uint64_t& suppressed);

 private:
  uint32_t burst_;
  std::chrono::seconds interval_;
  uint32_t written_ = 0;
  uint64_t suppressed_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace sensor::ctl

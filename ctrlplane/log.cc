#include "ctrlplane/log.h"

#include <cstdio>

namespace sensor::ctl {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

constexpr std::string_view kLevelNames[] = {"error", "warn", "info", "debug"};

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

bool LogEnabled(LogLevel level) { return level <= g_level.load(std::memory_order_relaxed); }

void WriteLogLine(LogLevel level, std::string_view component, std::string_view message) {
  const std::string line = fmt::format("level={} component={} {}\n",
                                       kLevelNames[static_cast<int>(level)], component, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

bool RateLimitedLog::Allow(uint64_t& suppressed) {
  const auto now = std::chrono::steady_clock::now();
  if (written_ < burst_ || now - last_ >= interval_) {
    ++written_;
    last_ = now;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  return false;
}

std::string ForTerminal(std::string_view text, size_t max_shown) {
  std::string safe(text.substr(0, max_shown));
  for (char& c : safe) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > max_shown) safe += "...";
  return safe;
}

}  // namespace sensor::ctl

#include "sensor/signals.h"

#include <signal.h>

namespace sensor {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reopen{false};
std::atomic<bool> g_reload{false};

static_assert(std::atomic<bool>::is_always_lock_free);

void OnStopSignal(int) { g_stop.store(true, std::memory_order_relaxed); }

void OnHangupSignal(int) {
  g_reopen.store(true, std::memory_order_relaxed);
  g_reload.store(true, std::memory_order_relaxed);
}

void Install(int signal_number, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal_number, &action, nullptr);
}

}  // namespace

void InstallSignalHandlers() {
  Install(SIGINT, OnStopSignal);
  Install(SIGTERM, OnStopSignal);
  Install(SIGHUP, OnHangupSignal);
}

std::atomic<bool>& StopRequested() { return g_stop; }

bool TakeReopenRequest() { return g_reopen.exchange(false, std::memory_order_relaxed); }

bool TakeReloadRequest() { return g_reload.exchange(false, std::memory_order_relaxed); }

}  // namespace sensor

// Signals of the daemon, turned into flags that the control loop polls: SIGINT and
// SIGTERM stop the run, SIGHUP requests that the alert file be reopened (logrotate) and
// that the intelligence be reloaded.
//
// The handlers only store to lock-free atomics, so they are async-signal-safe.
#pragma once

#include <atomic>

namespace sensor {

void InstallSignalHandlers();

// Raised once SIGINT or SIGTERM arrives; the engine polls it.
std::atomic<bool>& StopRequested();

// Each returns true once per SIGHUP received since its last call.
bool TakeReopenRequest();
bool TakeReloadRequest();

}  // namespace sensor

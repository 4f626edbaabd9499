// The thin layer under the self-check: reads its facts from /proc, /sys and DPDK.
//
// Main thread only, after EAL initialisation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sensor/self_check.h"

namespace sensor {

class Engine;
struct SensorOptions;

// Hugepages (EAL and /proc/meminfo), isolcpus and nohz_full (/sys/devices/system/cpu).
HostFacts ReadHostFacts();

// Worker i reads RX queue i on lcores[i].
std::vector<WorkerPlacement> ReadPlacements(const std::vector<unsigned>& lcores);

// The port as DPDK reports it. `rx_queues` and `rx_descriptors` are the configured (or,
// before configuration, the planned) values. Link and RSS key are read only from a
// started port, and a down link is read again for up to 3 s. LRO is left unknown because
// DPDK reports only what the application configured.
absl::StatusOr<PortFacts> ReadPortFacts(uint16_t port, uint16_t rx_queues,
                                        uint16_t rx_descriptors, bool started);

// Every fact of a live engine whose port is started.
absl::StatusOr<SelfCheckFacts> ReadEngineFacts(const Engine& engine, uint16_t port,
                                               uint32_t workers);

// Prints the self-check of a live engine at start. Warnings do not stop the run.
void PrintStartupSelfCheck(const Engine& engine, const SensorOptions& options);

// Runs `sensor self-check`: starts EAL with --eal, reads the facts without configuring
// the port and prints the report. Returns 0 without warnings, and 1 with warnings or when
// EAL, the port or a fact cannot be read.
int RunSelfCheck(const SensorOptions& options);

}  // namespace sensor

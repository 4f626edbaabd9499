// The start-up self-check of live mode: the port, queue, lcore and NUMA map, and one
// warning for each host or NIC setting that costs packets at 100G (no hugepages, worker
// cores shared with the kernel, a NIC on another NUMA socket, no link, flow control, LRO,
// RSS that is missing or not symmetric, too few queues, a mempool too small for its rings).
//
// The rules are pure functions of SelfCheckFacts, so tests can feed them made-up hosts;
// sensor/self_check_probe.h reads the real facts from /proc, /sys and DPDK.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sensor {

inline constexpr int kSocketAny = -1;  // DPDK's SOCKET_ID_ANY: no NUMA affinity known.

// The mbuf pool of a port, sized so that every mbuf that can be held at once has one:
//   required = rx_queues x rx_descriptors   (mbufs posted in the RX rings)
//            + lcores x (cache + burst)      (per-lcore mempool caches and bursts in hand)
//            + ring_packets                  (replay: packets queued to workers)
//            + in_flight                     (pacer, records and slack)
// and mbufs = required rounded up to 2^n - 1, which is the size rte_mempool uses best,
// unless an explicit count overrides it.
struct MempoolPlan {
  uint32_t rx_queues = 0;
  uint32_t rx_descriptors = 0;
  uint32_t lcores = 0;  // Lcores that take mbufs from the pool: workers, RX lcore, main.
  uint32_t cache = 256;
  uint32_t burst = 64;
  uint64_t ring_packets = 0;
  uint32_t in_flight = 1024;
  uint64_t required = 0;
  uint32_t mbufs = 0;
  bool overridden = false;  // mbufs was given (--mbufs), not computed.
};

// Fills `required` and `mbufs` of a plan; `mbufs_override` 0 computes the count.
MempoolPlan PlanMempool(uint32_t rx_queues, uint32_t rx_descriptors, uint32_t lcores,
                        uint64_t ring_packets, uint32_t mbufs_override);

// The formula with the plan's numbers, for the console and the docs.
std::string DescribeMempoolPlan(const MempoolPlan& plan);

struct HostFacts {
  bool hugepages = true;  // False when EAL runs with --no-huge.
  uint64_t hugepages_total = 0;
  uint64_t hugepage_size_kib = 0;
  // CPUs in /sys/devices/system/cpu/isolated and .../nohz_full; nullopt when the file
  // cannot be read (a kernel built without NO_HZ_FULL has no nohz_full file).
  std::optional<std::vector<int>> isolated_cpus;
  std::optional<std::vector<int>> nohz_full_cpus;
  unsigned main_lcore = 0;
  int main_cpu = -1;
};

struct PortFacts {
  uint16_t port = 0;
  std::string driver;
  std::string device;  // PCI address or virtual device name.
  int socket = kSocketAny;
  uint16_t max_rx_queues = 0;
  uint16_t rx_queues = 0;  // Configured, or planned before the port is configured.
  uint16_t rx_descriptors = 0;
  bool started = false;
  std::optional<bool> link_up;  // Unknown before the port is started.
  uint32_t link_speed_mbps = 0;
  bool link_full_duplex = false;
  bool rss_configurable = false;  // The driver takes RSS hash functions and a key.
  // The key read back from the port equals the symmetric key; unknown before start or
  // when the driver cannot return its key.
  std::optional<bool> rss_symmetric;
  std::optional<bool> flow_control_on;  // Unknown when the driver does not report it.
  std::optional<bool> lro_on;           // Unknown before the port is configured.
};

struct MempoolFacts {
  std::string name;
  int socket = kSocketAny;
  uint32_t data_room = 0;  // Bytes of each mbuf's buffer, headroom included.
  MempoolPlan plan;
};

struct WorkerPlacement {
  uint32_t worker = 0;
  uint16_t queue = 0;
  unsigned lcore = 0;
  std::vector<int> cpus;  // CPUs the lcore may run on; one when it is pinned.
  int socket = kSocketAny;
};

struct SelfCheckFacts {
  bool live = true;
  uint32_t workers = 0;  // Requested with --workers.
  HostFacts host;
  PortFacts port;
  MempoolFacts mempool;
  std::vector<WorkerPlacement> placements;
};

struct SelfCheckWarning {
  std::string code;     // Stable name, such as "no_hugepages".
  std::string message;  // One line: what is wrong, the fix, and the firmware note.
};

// The map as lines without a prefix: port, each queue's worker lcore and CPU, mempool.
std::vector<std::string> DescribeSelfCheckMap(const SelfCheckFacts& facts);

// Every warning the facts call for, in a fixed order.
std::vector<SelfCheckWarning> CheckSelfCheckFacts(const SelfCheckFacts& facts);

// The whole report: the map, then the warnings, each line starting with "self-check: ".
std::string FormatSelfCheckReport(const SelfCheckFacts& facts,
                                  const std::vector<SelfCheckWarning>& warnings);

// Parses a kernel CPU list such as "2-5,8,10-11" (the format of /sys cpu lists and of
// isolcpus); an empty or blank text is an empty list. nullopt for invalid text.
std::optional<std::vector<int>> ParseCpuList(std::string_view text);

// Formats CPUs as a kernel CPU list, merging runs: {2,3,4,8} is "2-4,8".
std::string FormatCpuList(std::vector<int> cpus);

// Lcores that the EAL arguments give (-l LIST, --lcores MAP or -c MASK); nullopt when
// none of them is present, so EAL takes every CPU, or when the value is invalid.
std::optional<uint32_t> CountEalLcores(std::string_view eal_args);

// Checks what `sensor check-config` can tell of live mode without starting EAL: that
// --eal gives an lcore to each worker besides the main one, and that --port is below
// DPDK's port limit (`max_ports`, RTE_MAX_ETHPORTS).
absl::Status CheckRunPlacement(std::string_view eal_args, uint32_t workers, uint32_t port,
                               uint32_t max_ports);

// The firmware note for a driver's RSS and offload settings: mlx5 and ice have their
// own, other drivers point to the index.
std::string_view NicNoteForDriver(std::string_view driver);

}  // namespace sensor

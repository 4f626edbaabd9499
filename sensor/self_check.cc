#include "sensor/self_check.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sensor {
namespace {

constexpr std::string_view kHostNote = "firmware-notes/host-tuning.md";
constexpr std::string_view kSizingNote = "firmware-notes/sizing.md";

std::string SocketName(int socket) {
  return socket == kSocketAny ? "any" : absl::StrCat(socket);
}

std::string YesNoUnknown(const std::optional<bool>& value, std::string_view yes,
                         std::string_view no) {
  if (!value) return "unknown";
  return std::string(*value ? yes : no);
}

std::string LinkText(const PortFacts& port) {
  if (!port.link_up) return "link not started";
  if (!*port.link_up) return "link down";
  return absl::StrFormat("link up %d Mbps %s", port.link_speed_mbps,
                         port.link_full_duplex ? "full-duplex" : "half-duplex");
}

std::string RssText(const PortFacts& port) {
  if (port.rx_queues <= 1) return "RSS not needed (one queue)";
  if (!port.rss_configurable) return "RSS not configurable";
  if (!port.rss_symmetric) return "RSS configurable";
  return *port.rss_symmetric ? "RSS symmetric key" : "RSS key not symmetric";
}

std::string CpuListOrNone(const std::optional<std::vector<int>>& cpus) {
  if (!cpus) return "unknown";
  return cpus->empty() ? "none" : FormatCpuList(*cpus);
}

// CPUs of the workers that are not in `allowed`.
std::vector<int> WorkerCpusOutside(const std::vector<WorkerPlacement>& placements,
                                   const std::vector<int>& allowed) {
  const std::set<int> in(allowed.begin(), allowed.end());
  std::set<int> outside;
  for (const WorkerPlacement& placement : placements) {
    for (int cpu : placement.cpus) {
      if (!in.contains(cpu)) outside.insert(cpu);
    }
  }
  return {outside.begin(), outside.end()};
}

std::string WorkerList(const std::vector<uint32_t>& workers) {
  std::vector<int> numbers(workers.begin(), workers.end());
  return FormatCpuList(numbers);
}

// "CPU 3 is" or "CPUs 3-5 are".
std::string CpusAre(const std::vector<int>& cpus) {
  return absl::StrCat(cpus.size() == 1 ? "CPU " : "CPUs ", FormatCpuList(cpus),
                      cpus.size() == 1 ? " is" : " are");
}

SelfCheckWarning Warning(std::string code, std::string text, std::string_view note) {
  return {std::move(code), absl::StrCat(text, " (", std::string(note), ")")};
}

void CheckHost(const SelfCheckFacts& facts, std::vector<SelfCheckWarning>& warnings) {
  if (facts.live && !facts.host.hugepages) {
    warnings.push_back(Warning(
        "no_hugepages",
        "EAL runs with --no-huge, so mbufs live in 4 KiB pages that cost TLB misses: "
        "reserve 1 GiB hugepages on the port's NUMA socket and remove --no-huge from --eal",
        kHostNote));
  }
  if (facts.placements.empty()) return;

  // Workers whose lcore floats over several CPUs or shares its CPU with another worker.
  std::vector<uint32_t> sharing;
  for (const WorkerPlacement& placement : facts.placements) {
    bool alone = placement.cpus.size() == 1;
    for (const WorkerPlacement& other : facts.placements) {
      if (alone && &other != &placement && other.cpus == placement.cpus) alone = false;
    }
    if (!alone) sharing.push_back(placement.worker);
  }
  if (facts.live && !sharing.empty()) {
    warnings.push_back(Warning(
        "workers_share_cpus",
        absl::StrCat(sharing.size() == 1 ? "worker " : "workers ", WorkerList(sharing),
                     sharing.size() == 1 ? " has no CPU of its own" : " have no CPU of their own",
                     " (an lcore that floats over several CPUs or shares one), so poll loops "
                     "take turns: map each worker lcore to a core of its own with -l in --eal"),
        kHostNote));
  }

  const std::vector<int> not_isolated =
      WorkerCpusOutside(facts.placements, facts.host.isolated_cpus.value_or(std::vector<int>{}));
  if (facts.live && facts.host.isolated_cpus && !not_isolated.empty()) {
    warnings.push_back(Warning(
        "not_isolated",
        absl::StrCat("worker ", CpusAre(not_isolated),
                     " not in isolcpus, so the kernel schedules other tasks on them: "
                     "boot with isolcpus=",
                     FormatCpuList(not_isolated)),
        kHostNote));
  }
  const std::vector<int> not_nohz =
      WorkerCpusOutside(facts.placements, facts.host.nohz_full_cpus.value_or(std::vector<int>{}));
  if (facts.live && !not_nohz.empty()) {
    warnings.push_back(Warning(
        "not_nohz_full",
        absl::StrCat("worker ", CpusAre(not_nohz),
                     " not in nohz_full, so the timer tick interrupts the poll loops: "
                     "boot with nohz_full=",
                     FormatCpuList(not_nohz), " rcu_nocbs=", FormatCpuList(not_nohz)),
        kHostNote));
  }
}

void CheckNuma(const SelfCheckFacts& facts, std::vector<SelfCheckWarning>& warnings) {
  const PortFacts& port = facts.port;
  if (port.socket == kSocketAny) return;
  std::vector<uint32_t> remote;
  int remote_socket = kSocketAny;
  for (const WorkerPlacement& placement : facts.placements) {
    if (placement.socket != kSocketAny && placement.socket != port.socket) {
      remote.push_back(placement.worker);
      remote_socket = placement.socket;
    }
  }
  if (!remote.empty()) {
    warnings.push_back(Warning(
        "numa_workers",
        absl::StrCat("port ", port.port, " is on NUMA socket ", port.socket, " but workers ",
                     WorkerList(remote), " run on socket ", remote_socket,
                     ", so every packet crosses the socket interconnect: give --eal -l "
                     "cores of socket ",
                     port.socket),
        kHostNote));
  }
  if (facts.mempool.socket != port.socket) {
    warnings.push_back(Warning(
        "numa_mempool",
        absl::StrCat("mempool ", facts.mempool.name, " is on NUMA socket ",
                     SocketName(facts.mempool.socket), " but port ", port.port,
                     " is on socket ", port.socket,
                     ": reserve hugepages on socket ", port.socket, " (--socket-mem in --eal)"),
        kHostNote));
  }
}

void CheckPort(const SelfCheckFacts& facts, std::vector<SelfCheckWarning>& warnings) {
  const PortFacts& port = facts.port;
  const std::string_view nic_note = NicNoteForDriver(port.driver);
  if (facts.live && port.link_up == false) {
    warnings.push_back(Warning(
        "link_down",
        absl::StrCat("port ", port.port,
                     " has no link, so no packets arrive: check the cable, the transceiver "
                     "and the mirror session on the switch"),
        "firmware-notes/mirror-ports.md"));
  }
  if (port.flow_control_on.value_or(false)) {
    warnings.push_back(Warning(
        "flow_control_on",
        absl::StrCat("port ", port.port,
                     " has Ethernet flow control on, so a busy sensor sends pause frames "
                     "towards the mirror source: turn it off on the switch and the NIC "
                     "(ethtool -A IFACE rx off tx off)"),
        kHostNote));
  }
  if (port.lro_on.value_or(false)) {
    warnings.push_back(Warning(
        "lro_on",
        absl::StrCat("port ", port.port,
                     " has LRO on, so merged segments hide packet boundaries and counts: "
                     "turn LRO off in the NIC settings"),
        nic_note));
  }
  if (port.rx_queues > 1 && !port.rss_configurable) {
    warnings.push_back(Warning(
        "rss_not_configurable",
        absl::StrCat("port ", port.port, " (", port.driver,
                     ") cannot be programmed with RSS, so with ", port.rx_queues,
                     " queues the two directions of a flow may reach different workers: "
                     "use a NIC with RSS or --workers 1"),
        nic_note));
  } else if (port.rx_queues > 1 && port.rss_symmetric == false) {
    warnings.push_back(Warning(
        "rss_not_symmetric",
        absl::StrCat("port ", port.port, " (", port.driver,
                     ") does not hold the symmetric RSS key it was given, so the two "
                     "directions of a flow may reach different workers: check the driver's "
                     "RSS key support"),
        nic_note));
  }
  const uint32_t queues = std::min<uint32_t>(port.max_rx_queues, port.rx_queues == 0
                                                                     ? port.max_rx_queues
                                                                     : port.rx_queues);
  if (facts.live && queues < facts.workers) {
    warnings.push_back(Warning(
        "too_few_queues",
        absl::StrCat("port ", port.port, " (", port.driver, ") has ", queues,
                     " RX queues for ", facts.workers, " workers: lower --workers to ", queues,
                     " or give the port more queues"),
        kSizingNote));
  }
}

void CheckMempool(const SelfCheckFacts& facts, std::vector<SelfCheckWarning>& warnings) {
  const MempoolPlan& plan = facts.mempool.plan;
  if (plan.mbufs >= plan.required) return;
  warnings.push_back(Warning(
      "mempool_too_small",
      absl::StrCat("mempool ", facts.mempool.name, " has ", plan.mbufs,
                   " mbufs but its RX rings, caches and bursts can hold ", plan.required,
                   ", so the rings run dry (rx_nombuf): raise --mbufs to ", plan.required,
                   " or lower --rx-descriptors"),
      kSizingNote));
}

}  // namespace

MempoolPlan PlanMempool(uint32_t rx_queues, uint32_t rx_descriptors, uint32_t lcores,
                        uint64_t ring_packets, uint32_t mbufs_override) {
  MempoolPlan plan;
  plan.rx_queues = rx_queues;
  plan.rx_descriptors = rx_descriptors;
  plan.lcores = lcores;
  plan.ring_packets = ring_packets;
  plan.required = uint64_t{rx_queues} * rx_descriptors +
                  uint64_t{lcores} * (plan.cache + plan.burst) + ring_packets + plan.in_flight;
  if (mbufs_override != 0) {
    plan.mbufs = mbufs_override;
    plan.overridden = true;
  } else {
    // rte_mempool allocates best at 2^n - 1 elements.
    const uint64_t rounded = std::bit_ceil(plan.required + 1) - 1;
    plan.mbufs = static_cast<uint32_t>(std::min<uint64_t>(rounded, UINT32_MAX));
  }
  return plan;
}

std::string DescribeMempoolPlan(const MempoolPlan& plan) {
  std::string text = absl::StrFormat(
      "RX queues %d x descriptors %d + lcores %d x (cache %d + burst %d)", plan.rx_queues,
      plan.rx_descriptors, plan.lcores, plan.cache, plan.burst);
  if (plan.ring_packets != 0) absl::StrAppend(&text, " + ", plan.ring_packets, " queued");
  absl::StrAppendFormat(&text, " + %d in flight = %d needed; %d mbufs %s", plan.in_flight,
                        plan.required, plan.mbufs,
                        plan.overridden ? "(--mbufs)" : "(rounded up to 2^n-1)");
  return text;
}

std::vector<std::string> DescribeSelfCheckMap(const SelfCheckFacts& facts) {
  std::vector<std::string> lines;
  const PortFacts& port = facts.port;
  lines.push_back(absl::StrFormat(
      "port %d %s (%s), NUMA socket %s, %s, RX queues %d (max %d) x %d descriptors, %s, "
      "flow control %s, LRO %s",
      port.port, port.driver, port.device, SocketName(port.socket), LinkText(port),
      port.rx_queues, port.max_rx_queues, port.rx_descriptors, RssText(port),
      YesNoUnknown(port.flow_control_on, "on", "off"), YesNoUnknown(port.lro_on, "on", "off")));
  for (const WorkerPlacement& placement : facts.placements) {
    lines.push_back(absl::StrFormat("queue %d -> worker %d on lcore %d, CPU %s, NUMA socket %s",
                                    placement.queue, placement.worker, placement.lcore,
                                    FormatCpuList(placement.cpus), SocketName(placement.socket)));
  }
  lines.push_back(absl::StrFormat("main lcore %d (control loop), CPU %s", facts.host.main_lcore,
                                  facts.host.main_cpu < 0 ? std::string("floating")
                                                          : absl::StrCat(facts.host.main_cpu)));
  const MempoolFacts& pool = facts.mempool;
  const double mib = static_cast<double>(pool.plan.mbufs) * pool.data_room / (1 << 20);
  lines.push_back(absl::StrFormat("mempool %s on NUMA socket %s: %d mbufs x %d bytes (%.1f MiB)",
                                  pool.name, SocketName(pool.socket), pool.plan.mbufs,
                                  pool.data_room, mib));
  lines.push_back(absl::StrCat("mempool size: ", DescribeMempoolPlan(pool.plan)));
  std::string hugepages = "none (--no-huge)";
  if (facts.host.hugepages) {
    hugepages = absl::StrFormat("%d of %d KiB", facts.host.hugepages_total,
                                facts.host.hugepage_size_kib);
  }
  lines.push_back(absl::StrCat("host: hugepages ", hugepages, ", isolcpus ",
                               CpuListOrNone(facts.host.isolated_cpus), ", nohz_full ",
                               CpuListOrNone(facts.host.nohz_full_cpus)));
  return lines;
}

std::vector<SelfCheckWarning> CheckSelfCheckFacts(const SelfCheckFacts& facts) {
  std::vector<SelfCheckWarning> warnings;
  CheckHost(facts, warnings);
  CheckNuma(facts, warnings);
  CheckPort(facts, warnings);
  CheckMempool(facts, warnings);
  return warnings;
}

std::string FormatSelfCheckReport(const SelfCheckFacts& facts,
                                  const std::vector<SelfCheckWarning>& warnings) {
  std::string text;
  for (const std::string& line : DescribeSelfCheckMap(facts)) {
    absl::StrAppend(&text, "self-check: ", line, "\n");
  }
  for (const SelfCheckWarning& warning : warnings) {
    absl::StrAppend(&text, "self-check: warning ", warning.code, ": ", warning.message, "\n");
  }
  absl::StrAppend(&text, "self-check: ", warnings.size(),
                  warnings.size() == 1 ? " warning\n" : " warnings\n");
  return text;
}

std::optional<std::vector<int>> ParseCpuList(std::string_view cpu_list) {
  std::set<int> cpus;
  const absl::string_view text =
      absl::StripAsciiWhitespace(absl::string_view(cpu_list.data(), cpu_list.size()));
  if (text.empty()) return std::vector<int>{};
  auto parse_number = [](absl::string_view digits, int& value) {
    const char* end = digits.data() + digits.size();
    auto [rest, error] = std::from_chars(digits.data(), end, value);
    return error == std::errc() && rest == end && value >= 0;
  };
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t dash = part.find('-');
    int first = 0;
    int last = 0;
    if (dash == absl::string_view::npos) {
      if (!parse_number(part, first)) return std::nullopt;
      last = first;
    } else if (!parse_number(part.substr(0, dash), first) ||
               !parse_number(part.substr(dash + 1), last) || last < first) {
      return std::nullopt;
    }
    // A range wider than any machine's CPU count is invalid input, not a list to build.
    if (last - first > 65536) return std::nullopt;
    for (int cpu = first; cpu <= last; ++cpu) cpus.insert(cpu);
  }
  return std::vector<int>(cpus.begin(), cpus.end());
}

std::string FormatCpuList(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::vector<std::string> runs;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    runs.push_back(j == i ? absl::StrCat(cpus[i]) : absl::StrCat(cpus[i], "-", cpus[j]));
    i = j + 1;
  }
  return runs.empty() ? "none" : absl::StrJoin(runs, ",");
}

namespace {

// Lcore ids of an EAL --lcores value such as "(0-2)@(0,1),3@4,5": the part before each
// '@', where a group in parentheses lists several lcores.
std::optional<std::vector<int>> ParseLcoreMap(absl::string_view map) {
  std::set<int> lcores;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= map.size(); ++i) {
    if (i < map.size() && map[i] == '(') ++depth;
    if (i < map.size() && map[i] == ')') --depth;
    if (i < map.size() && (map[i] != ',' || depth > 0)) continue;
    absl::string_view element = map.substr(start, i - start);
    start = i + 1;
    element = element.substr(0, element.find('@'));
    absl::ConsumePrefix(&element, "(");
    absl::ConsumeSuffix(&element, ")");
    const std::optional<std::vector<int>> ids =
        ParseCpuList(std::string_view(element.data(), element.size()));
    if (!ids || ids->empty()) return std::nullopt;
    lcores.insert(ids->begin(), ids->end());
  }
  return std::vector<int>(lcores.begin(), lcores.end());
}

std::optional<uint32_t> CountCoreMask(absl::string_view mask) {
  absl::ConsumePrefix(&mask, "0x");
  absl::ConsumePrefix(&mask, "0X");
  if (mask.empty()) return std::nullopt;
  uint32_t count = 0;
  for (char digit : mask) {
    int value = 0;
    if (digit >= '0' && digit <= '9') {
      value = digit - '0';
    } else if (digit >= 'a' && digit <= 'f') {
      value = digit - 'a' + 10;
    } else if (digit >= 'A' && digit <= 'F') {
      value = digit - 'A' + 10;
    } else {
      return std::nullopt;
    }
    count += static_cast<uint32_t>(std::popcount(static_cast<unsigned>(value)));
  }
  return count;
}

}  // namespace

std::optional<uint32_t> CountEalLcores(std::string_view eal_args) {
  const std::vector<absl::string_view> words = absl::StrSplit(
      absl::string_view(eal_args.data(), eal_args.size()), ' ', absl::SkipWhitespace());
  std::optional<uint32_t> count;
  for (size_t i = 0; i < words.size(); ++i) {
    absl::string_view word = words[i];
    absl::string_view value;
    bool is_map = false;
    bool is_mask = false;
    if (word == "-l" || word == "--lcores" || word == "-c") {
      if (i + 1 >= words.size()) return std::nullopt;
      value = words[++i];
      is_map = word == "--lcores";
      is_mask = word == "-c";
    } else if (absl::ConsumePrefix(&word, "--lcores=")) {
      value = word;
      is_map = true;
    } else if (word.size() > 2 && (absl::StartsWith(word, "-l") || absl::StartsWith(word, "-c")) &&
               word[2] != '-') {
      is_mask = word[1] == 'c';
      value = word.substr(2);
    } else {
      continue;
    }
    if (is_mask) {
      count = CountCoreMask(value);
    } else {
      const std::optional<std::vector<int>> lcores =
          is_map ? ParseLcoreMap(value)
                 : ParseCpuList(std::string_view(value.data(), value.size()));
      if (!lcores) return std::nullopt;
      count = static_cast<uint32_t>(lcores->size());
    }
    if (!count) return std::nullopt;
  }
  return count;
}

absl::Status CheckRunPlacement(std::string_view eal_args, uint32_t workers, uint32_t port,
                               uint32_t max_ports) {
  if (port >= max_ports) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--port ", port, " is out of range: DPDK numbers ports from 0 to ", max_ports - 1));
  }
  const std::optional<uint32_t> lcores = CountEalLcores(eal_args);
  if (lcores && *lcores < workers + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--workers ", workers, " needs ", workers + 1,
        " lcores (one per worker and the main lcore) but --eal gives ", *lcores,
        ": list more cores with -l or lower --workers"));
  }
  return absl::OkStatus();
}

std::string_view NicNoteForDriver(std::string_view driver) {
  if (driver.find("mlx5") != std::string_view::npos) return "firmware-notes/mlx5-connectx.md";
  if (driver.find("ice") != std::string_view::npos) return "firmware-notes/ice-e810.md";
  return "firmware-notes/README.md";
}

}  // namespace sensor

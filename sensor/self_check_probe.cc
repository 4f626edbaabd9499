#include "sensor/self_check_probe.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "dataplane/rss.h"
#include "sensor/eal_setup.h"
#include "sensor/engine.h"
#include "sensor/sensor_main.h"

namespace sensor {
namespace {

constexpr auto kLinkWait = std::chrono::seconds(3);

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::vector<int>> ReadCpuListFile(const std::string& path) {
  const std::optional<std::string> text = ReadSmallFile(path);
  if (!text) return std::nullopt;
  return ParseCpuList(*text);
}

// The value of a /proc/meminfo field such as "HugePages_Total", or 0 when it is missing.
uint64_t MeminfoValue(const std::string& meminfo, std::string_view field) {
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    if (!absl::StartsWith(line, absl::string_view(field.data(), field.size())) ||
        line.size() <= field.size() ||
        line[field.size()] != ':') {
      continue;
    }
    unsigned long long value = 0;
    const std::string rest(line.substr(field.size() + 1));
    if (std::sscanf(rest.c_str(), "%llu", &value) == 1) return value;
  }
  return 0;
}

std::vector<int> LcoreCpus(unsigned lcore) {
  const rte_cpuset_t set = rte_lcore_cpuset(lcore);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

int SocketOrAny(int socket) {
  return socket < 0 || socket == SOCKET_ID_ANY ? kSocketAny : socket;
}

std::vector<unsigned> PlannedWorkerLcores(uint32_t workers) {
  std::vector<unsigned> lcores;
  for (unsigned lcore = rte_get_next_lcore(-1, 1, 0);
       lcore < RTE_MAX_LCORE && lcores.size() < workers; lcore = rte_get_next_lcore(lcore, 1, 0)) {
    lcores.push_back(lcore);
  }
  return lcores;
}

}  // namespace

HostFacts ReadHostFacts() {
  HostFacts host;
  host.hugepages = rte_eal_has_hugepages() != 0;
  if (const std::optional<std::string> meminfo = ReadSmallFile("/proc/meminfo")) {
    host.hugepages_total = MeminfoValue(*meminfo, "HugePages_Total");
    host.hugepage_size_kib = MeminfoValue(*meminfo, "Hugepagesize");
  }
  host.isolated_cpus = ReadCpuListFile("/sys/devices/system/cpu/isolated");
  host.nohz_full_cpus = ReadCpuListFile("/sys/devices/system/cpu/nohz_full");
  host.main_lcore = rte_get_main_lcore();
  const std::vector<int> cpus = LcoreCpus(host.main_lcore);
  host.main_cpu = cpus.size() == 1 ? cpus[0] : -1;
  return host;
}

std::vector<WorkerPlacement> ReadPlacements(const std::vector<unsigned>& lcores) {
  std::vector<WorkerPlacement> placements;
  for (size_t i = 0; i < lcores.size(); ++i) {
    WorkerPlacement placement;
    placement.worker = static_cast<uint32_t>(i);
    placement.queue = static_cast<uint16_t>(i);
    placement.lcore = lcores[i];
    placement.cpus = LcoreCpus(lcores[i]);
    placement.socket = SocketOrAny(static_cast<int>(rte_lcore_to_socket_id(lcores[i])));
    placements.push_back(std::move(placement));
  }
  return placements;
}

absl::StatusOr<PortFacts> ReadPortFacts(uint16_t port, uint16_t rx_queues,
                                        uint16_t rx_descriptors, bool started) {
  rte_eth_dev_info info;
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot read port ", port, " information: ", rte_strerror(-rc)));
  }
  PortFacts facts;
  facts.port = port;
  facts.driver = info.driver_name != nullptr ? info.driver_name : "";
  facts.device = info.device != nullptr ? rte_dev_name(info.device) : "";
  facts.socket = SocketOrAny(rte_eth_dev_socket_id(port));
  facts.max_rx_queues = info.max_rx_queues;
  facts.rx_queues = rx_queues;
  facts.rx_descriptors = rx_descriptors;
  facts.started = started;
  facts.rss_configurable = info.flow_type_rss_offloads != 0;

  rte_eth_fc_conf fc;
  std::memset(&fc, 0, sizeof(fc));
  if (rte_eth_dev_flow_ctrl_get(port, &fc) == 0) facts.flow_control_on = fc.mode != RTE_ETH_FC_NONE;
  if (!started) return facts;

  // A NIC takes a moment to bring the link up after the port starts, so a down link is
  // read again for up to kLinkWait before it counts as down.
  rte_eth_link link;
  std::memset(&link, 0, sizeof(link));
  int link_rc = rte_eth_link_get_nowait(port, &link);
  const auto link_deadline = std::chrono::steady_clock::now() + kLinkWait;
  while (link_rc == 0 && link.link_status != RTE_ETH_LINK_UP &&
         std::chrono::steady_clock::now() < link_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    link_rc = rte_eth_link_get_nowait(port, &link);
  }
  if (link_rc == 0) {
    facts.link_up = link.link_status == RTE_ETH_LINK_UP;
    facts.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
    facts.link_full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  }
  if (rx_queues > 1 && facts.rss_configurable) {
    uint8_t key[256] = {};
    rte_eth_rss_conf rss;
    std::memset(&rss, 0, sizeof(rss));
    rss.rss_key = key;
    rss.rss_key_len = info.hash_key_size != 0 ? info.hash_key_size : dp::kRssKeyLength;
    if (rte_eth_dev_rss_hash_conf_get(port, &rss) == 0) {
      bool symmetric = rss.rss_hf != 0;
      for (size_t i = 0; i < rss.rss_key_len; ++i) {
        if (key[i] != dp::SymmetricRssKey()[i % 2]) symmetric = false;
      }
      facts.rss_symmetric = symmetric;
    }
  }
  return facts;
}

absl::StatusOr<SelfCheckFacts> ReadEngineFacts(const Engine& engine, uint16_t port,
                                               uint32_t workers) {
  SelfCheckFacts facts;
  facts.live = true;
  facts.workers = workers;
  facts.host = ReadHostFacts();
  absl::StatusOr<PortFacts> port_facts =
      ReadPortFacts(port, engine.rx_queues(), engine.rx_descriptors(), /*started=*/true);
  if (!port_facts.ok()) return port_facts.status();
  facts.port = *port_facts;
  facts.port.lro_on = (engine.rx_offloads() & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0;
  const rte_mempool* pool = engine.mempool();
  facts.mempool.name = pool != nullptr ? pool->name : "";
  facts.mempool.socket = pool != nullptr ? SocketOrAny(pool->socket_id) : kSocketAny;
  facts.mempool.data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
  facts.mempool.plan = engine.mempool_plan();
  facts.placements = ReadPlacements(engine.worker_lcores());
  return facts;
}

void PrintStartupSelfCheck(const Engine& engine, const SensorOptions& options) {
  absl::StatusOr<SelfCheckFacts> facts = ReadEngineFacts(engine, options.port, options.workers);
  if (!facts.ok()) {
    std::fprintf(stderr, "sensor: self-check skipped: %s\n",
                 std::string(facts.status().message()).c_str());
    return;
  }
  std::fputs(FormatSelfCheckReport(*facts, CheckSelfCheckFacts(*facts)).c_str(), stdout);
  std::fflush(stdout);
}

int RunSelfCheck(const SensorOptions& options) {
  std::vector<std::string> arguments = {"sensor"};
  for (absl::string_view argument :
       absl::StrSplit(options.eal_args, ' ', absl::SkipWhitespace())) {
    arguments.emplace_back(argument);
  }
  if (absl::Status status = InitEal(arguments); !status.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(status.message()).c_str());
    return kExitFailure;
  }
  const int exit_status = [&] {
    if (!rte_eth_dev_is_valid_port(options.port)) {
      const uint16_t ports = rte_eth_dev_count_avail();
      std::fprintf(stderr,
                   "sensor: DPDK port %u does not exist; EAL found %u %s: check --port and "
                   "the devices in --eal (-a, --vdev)\n",
                   options.port, ports, ports == 1 ? "port" : "ports");
      return kExitFailure;
    }
    if (rte_lcore_count() < options.workers + 1) {
      std::fprintf(stderr,
                   "sensor: %u workers need %u lcores besides the main one, but EAL has %u: "
                   "list more cores with -l in --eal\n",
                   options.workers, options.workers, rte_lcore_count() - 1);
      return kExitFailure;
    }
    SelfCheckFacts facts;
    facts.live = true;
    facts.workers = options.workers;
    facts.host = ReadHostFacts();
    absl::StatusOr<PortFacts> port =
        ReadPortFacts(options.port, static_cast<uint16_t>(options.workers), options.rx_descriptors,
                      /*started=*/false);
    if (!port.ok()) {
      std::fprintf(stderr, "sensor: %s\n", std::string(port.status().message()).c_str());
      return kExitFailure;
    }
    facts.port = *port;
    facts.mempool.name = absl::StrCat("sensor_mbufs_p", options.port);
    facts.mempool.socket = facts.port.socket;
    facts.mempool.data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
    facts.mempool.plan = PlanMempool(options.workers, options.rx_descriptors,
                                     options.workers + 1, 0, options.mbufs);
    facts.placements = ReadPlacements(PlannedWorkerLcores(options.workers));
    const std::vector<SelfCheckWarning> warnings = CheckSelfCheckFacts(facts);
    std::fputs(FormatSelfCheckReport(facts, warnings).c_str(), stdout);
    return warnings.empty() ? kExitOk : kExitFailure;
  }();
  std::fflush(stdout);
  CleanupEal();
  return exit_status;
}

}  // namespace sensor

// The ceiling of any replay through DPDK's net_pcap device: receives a capture's packets
// in bursts of 32 and frees them, nothing else. perf/side_by_side.sh compares the
// sensor's replay with this loop on the same file.
//
//   bare_pcap_loop FILE
//
// Prints one line: packets=N seconds=S packets_per_second=R. The time runs from the
// first burst to the last packet of the file; EAL and device setup are not timed. EAL runs
// with --no-huge --no-pci and a --file-prefix of its own, as the sensor's replay does.

#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kRxDescriptors = 1024;

// Packets in the capture, counted with libpcap: net_pcap signals no end of file.
int64_t CountPackets(const char* path) {
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(path, error);
  if (pcap == nullptr) {
    std::fprintf(stderr, "bare_pcap_loop: cannot open %s: %s\n", path, error);
    return -1;
  }
  int64_t packets = 0;
  pcap_pkthdr* header;
  const u_char* data;
  while (pcap_next_ex(pcap, &header, &data) == 1) ++packets;
  pcap_close(pcap);
  return packets;
}

int Fail(const char* what, int error) {
  std::fprintf(stderr, "bare_pcap_loop: %s failed: %s\n", what, rte_strerror(error));
  rte_eal_cleanup();
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bare_pcap_loop FILE\n");
    return 2;
  }
  const int64_t expected = CountPackets(argv[1]);
  if (expected < 0) return 1;

  const std::string vdev = std::string("--vdev=net_pcap0,rx_pcap=") + argv[1];
  const std::string prefix = "bare-pcap-loop-" + std::to_string(getpid());
  // The lcore floats over every CPU, as the sensor's replay lcores do, so neither is tied
  // to a core that other processes happen to load.
  const std::string lcores =
      "--lcores=0@(0-" + std::to_string(sysconf(_SC_NPROCESSORS_ONLN) - 1) + ")";
  std::vector<std::string> eal_args = {argv[0], "--no-huge",     "--no-pci", "-m",
                                       "256",   lcores,          vdev,       "--file-prefix",
                                       prefix,  "--log-level",   "lib.eal:error"};
  std::vector<char*> eal_argv;
  for (auto& arg : eal_args) eal_argv.push_back(arg.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "bare_pcap_loop: EAL initialisation failed: %s\n",
                 rte_strerror(rte_errno));
    return 1;
  }

  rte_mempool* pool = rte_pktmbuf_pool_create("bare_mbufs", 4095, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) return Fail("mempool creation", rte_errno);
  const uint16_t port = 0;
  rte_eth_conf conf{};
  if (int rc = rte_eth_dev_configure(port, 1, 1, &conf); rc != 0) {
    return Fail("port configuration", -rc);
  }
  const int socket = rte_eth_dev_socket_id(port);
  if (int rc = rte_eth_rx_queue_setup(port, 0, kRxDescriptors, socket, nullptr, pool); rc != 0) {
    return Fail("RX queue setup", -rc);
  }
  if (int rc = rte_eth_tx_queue_setup(port, 0, 64, socket, nullptr); rc != 0) {
    return Fail("TX queue setup", -rc);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) return Fail("port start", -rc);

  rte_mbuf* mbufs[kBurst];
  int64_t received = 0;
  uint64_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_packet = start;
  uint32_t empty_polls = 0;
  while (received < expected) {
    const uint16_t count = rte_eth_rx_burst(port, 0, mbufs, kBurst);
    if (count == 0) {
      // The device found fewer packets than libpcap (a damaged file): stop after a quiet
      // second rather than poll forever. The clock is read only on empty polls.
      if (empty_polls++ == 0) last_packet = std::chrono::steady_clock::now();
      if (empty_polls % 1024 == 0 &&
          std::chrono::steady_clock::now() - last_packet > std::chrono::seconds(1)) {
        std::fprintf(stderr, "bare_pcap_loop: %s: the device stopped after %lld of %lld packets\n",
                     argv[1], static_cast<long long>(received), static_cast<long long>(expected));
        rte_eal_cleanup();
        return 1;
      }
      continue;
    }
    empty_polls = 0;
    for (uint16_t i = 0; i < count; ++i) bytes += mbufs[i]->pkt_len;
    rte_pktmbuf_free_bulk(mbufs, count);
    received += count;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("packets=%lld bytes=%llu seconds=%.6f packets_per_second=%.0f\n",
              static_cast<long long>(received), static_cast<unsigned long long>(bytes),
              seconds, seconds > 0 ? static_cast<double>(received) / seconds : 0.0);
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  rte_eal_cleanup();
  return 0;
}

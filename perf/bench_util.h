// Helpers shared by the Google Benchmark programs: test captures, cycle counters, heap
// measurements and the switch between the quick default sizes and the full run.
#pragma once

#include <malloc.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "dataplane/pattern/pattern_database.h"

namespace sensor::bench {

// A file below tests/data: SENSOR_TEST_DATA (meson sets it) or tests/data relative to the
// working directory.
inline std::string DataPath(std::string_view name) {
  const char* root = std::getenv("SENSOR_TEST_DATA");
  return std::string(root != nullptr ? root : "tests/data") + "/" + std::string(name);
}

// True when SENSOR_BENCH_FULL is set to a non-empty value other than "0": the full run adds
// the largest sizes (10M indicators), which take minutes and gigabytes to build.
inline bool FullRun() {
  const char* value = std::getenv("SENSOR_BENCH_FULL");
  return value != nullptr && value[0] != '\0' && std::string_view(value) != "0";
}

// All frames of a capture (pcap or pcapng), each as its own byte vector. Empty when the
// file cannot be opened.
inline std::vector<std::vector<std::byte>> LoadFrames(std::string_view name) {
  std::vector<std::vector<std::byte>> frames;
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(DataPath(name).c_str(), error);
  if (pcap == nullptr) return frames;
  pcap_pkthdr* header;
  const u_char* data;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    const auto* begin = reinterpret_cast<const std::byte*>(data);
    frames.emplace_back(begin, begin + header->caplen);
  }
  pcap_close(pcap);
  return frames;
}

// The captures of tests/data/pcap that form the traffic mix of the benchmarks, all real
// recordings (see tests/data/pcap/SOURCES.md). They carry DNS, TCP with IPv4 fragments,
// TLS 1.2 and 1.3, QUIC, VXLAN, and HTTP in plain IPv4, in IPv6 with extension headers,
// in VLANs, in MPLS and in GRE.
inline std::vector<std::vector<std::byte>> LoadTrafficMix() {
  std::vector<std::vector<std::byte>> mix;
  for (std::string_view name :
       {"pcap/demo-mix.pcap", "pcap/dns-v4v6-tcp-ipfrag.pcap", "pcap/gre-tunnel.pcap",
        "pcap/http-get-bro.org.pcap", "pcap/http-sqli-dvwa.pcapng", "pcap/ipv6-exthdr-http.pcap",
        "pcap/mpls-in-vlan-http.pcap", "pcap/quic-v1-sni-cirrus-ci.pcap",
        "pcap/tls12-sni-google.de.pcap", "pcap/tls13-sni-googlevideo.pcap",
        "pcap/vlan-ipv6-http.pcap", "pcap/vlan-qinqinq-http.pcap", "pcap/vxlan-dns-ssh.pcap"}) {
    auto frames = LoadFrames(name);
    for (auto& frame : frames) mix.push_back(std::move(frame));
  }
  return mix;
}

// Bytes currently allocated through malloc: the difference of two readings taken around a
// build is the heap the built structure keeps (allocator overhead included).
inline size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// TSC ticks per second, measured once against the monotonic clock over 50 ms (the
// benchmarks run without EAL, which would otherwise provide it).
inline double TscHz() {
  static const double hz = [] {
    timespec begin;
    timespec end;
    clock_gettime(CLOCK_MONOTONIC, &begin);
    const uint64_t tsc_begin = rte_rdtsc();
    do {
      clock_gettime(CLOCK_MONOTONIC, &end);
    } while ((end.tv_sec - begin.tv_sec) * 1e9 + (end.tv_nsec - begin.tv_nsec) < 50e6);
    const uint64_t tsc_end = rte_rdtsc();
    const double ns = (end.tv_sec - begin.tv_sec) * 1e9 + (end.tv_nsec - begin.tv_nsec);
    return static_cast<double>(tsc_end - tsc_begin) * 1e9 / ns;
  }();
  return hz;
}

// CPU time of the calling thread in nanoseconds: unlike the TSC it stops while the
// thread is descheduled, so cycles derived from it hold on a shared, loaded machine.
inline uint64_t ThreadCpuNs() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
}

// Start of a measured loop, for ReportCycles.
struct LoopStart {
  uint64_t tsc = rte_rdtsc();
  uint64_t cpu_ns = ThreadCpuNs();
};

// Sets items per second and cycles per item for a loop that began at `start`:
// `cycles_per_item` counts the thread's CPU time at the TSC rate, `tsc_per_item` counts
// TSC ticks of wall time (which includes any time the thread was descheduled).
inline void ReportCycles(benchmark::State& state, const LoopStart& start, uint64_t items) {
  const double tsc = static_cast<double>(rte_rdtsc() - start.tsc);
  const double cpu_cycles = static_cast<double>(ThreadCpuNs() - start.cpu_ns) * TscHz() / 1e9;
  const double count = items == 0 ? 1 : static_cast<double>(items);
  state.counters["cycles_per_item"] = cpu_cycles / count;
  state.counters["tsc_per_item"] = tsc / count;
  state.SetItemsProcessed(static_cast<int64_t>(items));
}

// A random lower-case DNS label of 5 to 14 letters.
inline std::string RandomLabel(std::mt19937_64& random) {
  std::string label;
  const size_t length = 5 + random() % 10;
  for (size_t i = 0; i < length; ++i) label += static_cast<char>('a' + random() % 26);
  return label;
}

inline std::string RandomDomain(std::mt19937_64& random) {
  static constexpr std::string_view kTlds[] = {"com", "net", "org", "info", "ru",
                                               "cn",  "io",  "xyz", "top",  "de"};
  std::string name = RandomLabel(random) + "." + std::string(kTlds[random() % 10]);
  if (random() % 10 < 3) name = RandomLabel(random) + "." + name;
  return name;
}

// `count` patterns as MISP pattern-in-traffic attributes carry them: nine in ten literal
// byte strings of 8 to 17 characters, one in ten regular expressions with a class and a
// repeat, caseless. They are random, so matches are rare, as on a real link.
inline std::vector<dp::PatternSource> RandomPatterns(int64_t count) {
  std::vector<dp::PatternSource> patterns;
  std::mt19937_64 random(2);
  for (int64_t i = 0; i < count; ++i) {
    std::string value = RandomLabel(random) + RandomLabel(random).substr(0, 3);
    if (i % 10 == 9) value = "/" + value.substr(0, 5) + "[0-9]{2,8}" + value.substr(5) + "/i";
    patterns.push_back(dp::PatternFromMispValue(value, static_cast<uint32_t>(i), "bench"));
  }
  return patterns;
}

}  // namespace sensor::bench

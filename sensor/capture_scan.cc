#include "sensor/capture_scan.h"

#include <pcap/pcap.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sensor {

absl::StatusOr<CaptureScan> ScanCapture(const std::string& path) {
  // net_pcap opens the file a second time, so it must be a regular file; a FIFO or a
  // terminal would block or be read only once.
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capture ", path, " is not a regular file; replay reads it twice, so save it first"));
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, error);
  if (pcap == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read capture ", path, ": ", error));
  }
  CaptureScan scan;
  scan.link_type = pcap_datalink(pcap);
  if (scan.link_type != DLT_EN10MB) {
    const char* name = pcap_datalink_val_to_name(scan.link_type);
    pcap_close(pcap);
    return absl::InvalidArgumentError(absl::StrCat(
        "capture ", path, " has link type ", name != nullptr ? name : "unknown", " (",
        scan.link_type, "); replay reads Ethernet captures only (convert with "
        "'editcap -T ether' where the frames allow)"));
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (true) {
    const int result = pcap_next_ex(pcap, &header, &data);
    if (result == 1) {
      const uint64_t ns = static_cast<uint64_t>(header->ts.tv_sec) * 1'000'000'000 +
                          static_cast<uint64_t>(header->ts.tv_usec);
      if (scan.packets == 0) scan.first_ns = ns;
      scan.last_ns = ns;
      scan.latest_ns = std::max(scan.latest_ns, ns);
      ++scan.packets;
      scan.bytes += header->caplen;
      continue;
    }
    if (result == PCAP_ERROR) {
      scan.damaged = true;
      scan.damage = pcap_geterr(pcap);
    }
    break;
  }
  pcap_close(pcap);
  return scan;
}

}  // namespace sensor

// GeoIP and ASN lookups for alert enrichment, from MaxMind DB files (GeoIP2/GeoLite2
// City or Country, and ASN) read with libmaxminddb.
//
// Control thread only. The databases are memory-mapped at Open(); lookups do not
// allocate beyond the returned strings.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/decode/packet.h"

struct MMDB_s;

namespace sensor::ctl {

// The ECS geo and as fields known for one address; empty strings and nullopt where the
// database has nothing.
struct GeoResult {
  std::string continent_code;
  std::string country_iso_code;
  std::string country_name;
  std::string region_name;
  std::string city_name;
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::optional<uint32_t> as_number;
  std::string as_organization;

  bool empty() const {
    return country_iso_code.empty() && city_name.empty() && !as_number && !latitude;
  }
};

class GeoIp {
 public:
  // Opens the databases; either path may be empty. Fails with the file name and
  // libmaxminddb's message when a given file cannot be opened.
  static absl::StatusOr<std::unique_ptr<GeoIp>> Open(const std::string& city_or_country_path,
                                                     const std::string& asn_path);
  ~GeoIp();

  GeoResult Lookup(const dp::IpAddress& address) const;

 private:
  GeoIp() = default;
  std::unique_ptr<MMDB_s> location_;
  std::unique_ptr<MMDB_s> asn_;
};

}  // namespace sensor::ctl

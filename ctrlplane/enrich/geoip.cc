#include "ctrlplane/enrich/geoip.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sensor::ctl {
namespace {

absl::StatusOr<std::unique_ptr<MMDB_s>> OpenDatabase(const std::string& path) {
  auto database = std::make_unique<MMDB_s>();
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, database.get());
  if (status != MMDB_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open MaxMind database ", path, ": ", MMDB_strerror(status)));
  }
  return database;
}

// Looks up `address`; returns false when the database has no record for it.
bool LookupEntry(MMDB_s* database, const dp::IpAddress& address, MMDB_entry_s& entry) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  // Databases with an IPv6 tree map IPv4 into ::ffff:0:0/96 themselves; passing IPv4 as
  // AF_INET lets libmaxminddb pick the right subtree for both kinds of database.
  if (address.IsV4()) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(address.v4());
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    std::memcpy(v6->sin6_addr.s6_addr, address.bytes.data(), 16);
  }
  int error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(database, reinterpret_cast<sockaddr*>(&storage), &error);
  if (error != MMDB_SUCCESS || !result.found_entry) return false;
  entry = result.entry;
  return true;
}

std::string GetString(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return "";
  }
  return std::string(data.utf8_string, data.data_size);
}

std::optional<double> GetDouble(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_DOUBLE) {
    return std::nullopt;
  }
  return data.double_value;
}

std::optional<uint32_t> GetUint32(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UINT32) {
    return std::nullopt;
  }
  return data.uint32;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GeoIp>> GeoIp::Open(const std::string& city_or_country_path,
                                                   const std::string& asn_path) {
  std::unique_ptr<GeoIp> geoip(new GeoIp());
  if (!city_or_country_path.empty()) {
    absl::StatusOr<std::unique_ptr<MMDB_s>> database = OpenDatabase(city_or_country_path);
    if (!database.ok()) return database.status();
    geoip->location_ = std::move(*database);
  }
  if (!asn_path.empty()) {
    absl::StatusOr<std::unique_ptr<MMDB_s>> database = OpenDatabase(asn_path);
    if (!database.ok()) return database.status();
    geoip->asn_ = std::move(*database);
  }
  return geoip;
}

GeoIp::~GeoIp() {
  if (location_) MMDB_close(location_.get());
  if (asn_) MMDB_close(asn_.get());
}

GeoResult GeoIp::Lookup(const dp::IpAddress& address) const {
  GeoResult result;
  MMDB_entry_s entry;
  if (location_ && LookupEntry(location_.get(), address, entry)) {
    static const char* const kContinent[] = {"continent", "code", nullptr};
    static const char* const kCountryIso[] = {"country", "iso_code", nullptr};
    static const char* const kCountryName[] = {"country", "names", "en", nullptr};
    static const char* const kRegionName[] = {"subdivisions", "0", "names", "en", nullptr};
    static const char* const kCityName[] = {"city", "names", "en", nullptr};
    static const char* const kLatitude[] = {"location", "latitude", nullptr};
    static const char* const kLongitude[] = {"location", "longitude", nullptr};
    result.continent_code = GetString(entry, kContinent);
    result.country_iso_code = GetString(entry, kCountryIso);
    result.country_name = GetString(entry, kCountryName);
    result.region_name = GetString(entry, kRegionName);
    result.city_name = GetString(entry, kCityName);
    result.latitude = GetDouble(entry, kLatitude);
    result.longitude = GetDouble(entry, kLongitude);
  }
  if (asn_ && LookupEntry(asn_.get(), address, entry)) {
    static const char* const kNumber[] = {"autonomous_system_number", nullptr};
    static const char* const kOrganization[] = {"autonomous_system_organization", nullptr};
    result.as_number = GetUint32(entry, kNumber);
    result.as_organization = GetString(entry, kOrganization);
  }
  return result;
}

}  // namespace sensor::ctl

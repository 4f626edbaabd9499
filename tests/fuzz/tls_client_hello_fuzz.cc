// Fuzz target for the TLS ClientHello parser: the input is read as TLS records, as on a
// TCP connection (ParseClientHelloRecords), and as a bare handshake message, as in QUIC's
// CRYPTO stream (ParseClientHelloMessage).
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/proto/tls_client_hello.h"

namespace {

using sensor::dp::ClientHelloInfo;
using sensor::dp::TlsStatus;

void Check(TlsStatus status, const ClientHelloInfo& info, size_t size) {
  if (sensor::dp::TlsStatusName(status).empty()) __builtin_trap();
  if (info.server_name_length > sensor::dp::kMaxServerNameLength) __builtin_trap();
  if (info.server_name[info.server_name_length] != '\0') __builtin_trap();
  if (info.supported_version_count > sensor::dp::kMaxOfferedVersions) __builtin_trap();
  if (status == TlsStatus::kOk && info.bytes_consumed > size) __builtin_trap();
  // The caller waits for bytes_needed bytes, so it must be more than it already has.
  if (status == TlsStatus::kNeedMoreBytes && info.bytes_needed <= size) __builtin_trap();
  static_cast<void>(info.MaxOfferedVersion());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);

  ClientHelloInfo records;
  Check(sensor::dp::ParseClientHelloRecords(bytes, records), records, size);

  ClientHelloInfo message;
  Check(sensor::dp::ParseClientHelloMessage(bytes, message), message, size);
  return 0;
}

// Fuzz target for the DNS parser: the input is read as one UDP payload (ParseDnsMessage)
// and as a DNS-over-TCP stream of length-prefixed messages (NextDnsTcpMessage).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "dataplane/proto/dns.h"

namespace {

using sensor::dp::DnsMessage;
using sensor::dp::DnsName;

// About 20 KiB, so kept out of the stack as the worker keeps it.
DnsMessage message;

void CheckName(const DnsName& name) {
  if (name.length > sensor::dp::kMaxDnsNameWireLength) __builtin_trap();
  if (name.text[name.length] != '\0') __builtin_trap();
}

void ParseAndCheck(std::span<const std::byte> bytes) {
  const sensor::dp::DnsStatus status = sensor::dp::ParseDnsMessage(bytes, message);
  if (sensor::dp::DnsStatusName(status).empty()) __builtin_trap();
  if (message.question_count > sensor::dp::kMaxDnsQuestions) __builtin_trap();
  if (message.answer_count > sensor::dp::kMaxDnsAnswers) __builtin_trap();
  for (size_t i = 0; i < message.question_count; ++i) CheckName(message.questions[i].name);
  for (size_t i = 0; i < message.answer_count; ++i) {
    CheckName(message.answers[i].name);
    CheckName(message.answers[i].target);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  ParseAndCheck(bytes);

  size_t offset = 0;
  while (offset < size) {
    sensor::dp::DnsTcpFrame frame;
    const auto status = sensor::dp::NextDnsTcpMessage(bytes.subspan(offset), frame);
    if (status != sensor::dp::DnsTcpStatus::kComplete) break;
    if (frame.frame_length == 0 || frame.frame_length > size - offset) __builtin_trap();
    ParseAndCheck(frame.message);
    offset += frame.frame_length;
  }

  // A name at every offset the message could point to.
  if (size > 0) {
    DnsName name;
    size_t next = 0;
    const size_t start = data[0] % size;
    if (sensor::dp::ReadDnsName(bytes, start, name, next) == sensor::dp::DnsStatus::kOk) {
      CheckName(name);
      if (next > size) __builtin_trap();
    }
  }
  return 0;
}

// Bounds-checked reads of big-endian integers and byte ranges from a span, shared by the
// protocol parsers in this directory.
//
// Usable from any thread, and it never allocates. A read that does not fit in the remaining
// bytes returns false and leaves the position unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sensor::dp {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data, size_t offset = 0)
      : data_(data), offset_(offset <= data.size() ? offset : data.size()) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  std::span<const std::byte> data() const { return data_; }

  bool ReadU8(uint8_t& value) {
    if (remaining() < 1) {
      return false;
    }
    value = static_cast<uint8_t>(data_[offset_]);
    offset_ += 1;
    return true;
  }

  bool ReadU16(uint16_t& value) {
    if (remaining() < 2) {
      return false;
    }
    value = static_cast<uint16_t>(Byte(0) << 8 | Byte(1));
    offset_ += 2;
    return true;
  }

  bool ReadU24(uint32_t& value) {
    if (remaining() < 3) {
      return false;
    }
    value = Byte(0) << 16 | Byte(1) << 8 | Byte(2);
    offset_ += 3;
    return true;
  }

  bool ReadU32(uint32_t& value) {
    if (remaining() < 4) {
      return false;
    }
    value = Byte(0) << 24 | Byte(1) << 16 | Byte(2) << 8 | Byte(3);
    offset_ += 4;
    return true;
  }

  // Reads a QUIC variable-length integer (RFC 9000 section 16): the two high bits of the
  // first byte give the encoded length, 1, 2, 4 or 8 bytes.
  bool ReadQuicVarint(uint64_t& value) {
    if (remaining() < 1) {
      return false;
    }
    const size_t length = size_t{1} << (Byte(0) >> 6);
    if (remaining() < length) {
      return false;
    }
    uint64_t result = Byte(0) & 0x3F;
    for (size_t i = 1; i < length; ++i) {
      result = result << 8 | Byte(i);
    }
    value = result;
    offset_ += length;
    return true;
  }

  bool ReadBytes(size_t length, std::span<const std::byte>& bytes) {
    if (remaining() < length) {
      return false;
    }
    bytes = data_.subspan(offset_, length);
    offset_ += length;
    return true;
  }

  bool Skip(size_t length) {
    if (remaining() < length) {
      return false;
    }
    offset_ += length;
    return true;
  }

 private:
  // The byte `index` positions after the current offset; callers check the bound first.
  uint32_t Byte(size_t index) const { return static_cast<uint32_t>(data_[offset_ + index]); }

  std::span<const std::byte> data_;
  size_t offset_;
};

}  // namespace sensor::dp

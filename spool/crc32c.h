// spool/crc32c.h — CRC-32C (Castagnoli, RFC 3720), the checksum of every
// spool record. Uses the SSE4.2 crc32 instruction when the CPU has it, a
// table otherwise; both give the same values.
//
//   uint32_t c = crc32c("123456789");             // 0xE3069283
//   uint32_t c2 = crc32c_extend(crc32c("1234"), "56789");  // same value
#pragma once

#include <cstdint>
#include <string_view>

namespace ringmta::spool {

// crc32c_extend continues a CRC over more bytes: crc32c_extend(crc32c(a), b)
// equals crc32c(a + b), so a record's CRC is computed over its pieces
// without joining them.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c_extend(uint32_t crc, std::string_view bytes) {
  return crc32c_extend(crc, bytes.data(), bytes.size());
}

// crc32c of bytes (initial value 0).
inline uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes); }

// crc32c_hardware tells whether the SSE4.2 path is used (for tests).
bool crc32c_hardware();

// crc32c_extend_portable: the table path, always available (for tests).
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size);

}  // namespace ringmta::spool

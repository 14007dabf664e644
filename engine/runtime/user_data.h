// engine/runtime/user_data.h — what a completion needs to find its owner, packed
// into io_uring's 64-bit user_data (liburing's examples/proxy.h does the
// same): the operation, a slot, and the slot's generation, so that a late
// completion for a connection that has since closed is recognized and dropped.
#pragma once

#include <cstdint>

namespace ringmta {

enum class Op : uint8_t {
  kNone = 0,
  kAccept,      // slot = listener index
  kRecv,        // slot = connection
  kSend,        // slot = connection
  kCancel,      // result ignored
  kSpoolWrite,  // gen = batch number (an RWF_DSYNC write: write and sync)
  kWake,        // msg_ring from another shard
  kStop,        // poll on the stop eventfd
  kTick,        // periodic timer
  kEventLog,    // append to the delivery event log
  kOutConnect,  // slot = outbound connection
  kOutRecv,     // slot = outbound connection
  kOutSend,     // slot = outbound connection
  kDns,         // slot = c-ares socket fd, gen = poll generation (dns_channel.h)
  kAuth,        // read of the auth service's eventfd: verdicts wait
  kReload,      // read of this shard's reload eventfd (SIGHUP)
  kSpoolRead,   // slot = read slot, gen = its generation (shard_loading.cc)
  kSpoolUnlink, // a segment's unlinkat (shard_retention.cc)
  kSpoolDirSync,  // the fsync of the spool directory after it
};

struct UserData {
  Op op;
  uint32_t slot;  // 24 bits used
  uint32_t gen;
};

constexpr uint64_t encode(Op op, uint32_t slot = 0, uint32_t gen = 0) {
  return (uint64_t{static_cast<uint8_t>(op)} << 56) | (uint64_t{slot & 0xFFFFFF} << 32) | gen;
}

constexpr UserData decode(uint64_t v) {
  return {static_cast<Op>(v >> 56), static_cast<uint32_t>((v >> 32) & 0xFFFFFF),
          static_cast<uint32_t>(v)};
}

}  // namespace ringmta

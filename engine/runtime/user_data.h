// engine/runtime/user_data.h — what a completion needs to find its owner,
// packed into io_uring's 64-bit user_data (liburing's examples/proxy.h does
// the same): the operation, a slot, and the slot's generation, so that a
// late completion for a connection that has since closed is recognized and
// dropped.
//
// Each operation belongs to exactly one component of the shard; the shard
// routes a completion to that component's on_completion by its op
// (engine/shard.cc, Shard::own). The groups below say which.
#pragma once

#include <cstdint>

namespace ringmta {

enum class Op : uint8_t {
  // The shard itself.
  kNone = 0,
  kCancel,      // result ignored (cancel requests, linked timeouts)
  kWake,        // msg_ring from another shard
  kStop,        // poll on the stop eventfd
  kTick,        // a timeout (smtpblast's sink times its replies with it)
  // Inbound (engine/inbound/).
  kAccept,      // slot = listener index
  kRecv,        // slot = connection
  kSend,        // slot = connection
  kAuth,        // read of the auth service's eventfd: verdicts wait
  kReload,      // read of this shard's reload eventfd (SIGHUP)
  // Signing (engine/dkim/).
  kSign,        // read of the signing service's eventfd: signed messages wait
  // Store (engine/store/).
  kSpoolWrite,  // gen = batch number (an RWF_DSYNC write: write and sync)
  kSpoolRead,   // slot = read slot, gen = its generation (content_loader.cc)
  kSpoolUnlink, // a segment's unlinkat (segments.cc)
  kSpoolDirSync,  // the fsync of the spool directory after it
  // Delivery (engine/delivery/).
  kEventLog,    // append to the delivery event log
  // Outbound (engine/outbound/).
  kOutConnect,  // slot = outbound connection
  kOutRecv,     // slot = outbound connection
  kOutSend,     // slot = outbound connection
  kDns,         // slot = c-ares socket fd, gen = poll generation (dns_channel.h)
  // Admin API (engine/admin/).
  kAdminAccept, // slot = listener index
  kAdminRecv,   // slot = connection
  kAdminSend,   // slot = connection
  // Webhooks (engine/observe/webhook_shipper.h), slot = the [[webhook]]'s index.
  kHookRead,    // a read of the event log
  kHookConnect, // gen = connection generation
  kHookRecv,    // gen = connection generation
  kHookSend,    // gen = connection generation
  kHookOffset,  // gen = step of the offset file's update (openat, write, rename)
  kCount,       // not an operation: the number of them
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

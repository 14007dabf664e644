// engine/inbound/client_limits.h — per-client-IP abuse limits shared by all shards:
// concurrent connections, new connections per second, failed AUTH per
// minute (Postfix's anvil keeps the same counts, in a separate process).
//
//   ClientLimits limits({.max_connections = 50, .max_connect_rate = 20,
//                        .max_auth_failures = 10});
//   on accept:  switch (limits.admit(peer, now_ms)) { ... 421 4.7.0 ... }
//               kOk means a connection slot is held: release(peer) at close.
//   on a 535:   limits.auth_failed(peer, now_ms);
//   on AUTH:    if (limits.auth_blocked(peer, now_ms)) { 421 4.7.0 }
//
// SO_REUSEPORT spreads one client's connections over every shard, so the
// counts must be global; a lock on that path would serialize the shards.
// Instead each count is a count-min sketch: two rows of relaxed atomic
// counters indexed by two independent hashes of the client's address; a
// client's count is the smaller of its two cells. Collisions can only make
// a count too high, never too low: a client is refused early only if both
// of its cells also hold enough of other clients' connections to reach the
// limit (with 10,000 clients connected at once and a limit of 5, ~1e-7 per
// client; tests/engine/inbound/client_limits_test.cc). IPv6 clients are
// counted per /64, the smallest network one subscriber usually holds.
//
// Rates use fixed windows (a second, a minute): simple and lock-free, at
// the cost of letting up to twice the rate through across a window edge.
// A limit of 0 turns that check off.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace ringmta {

struct ClientLimitSettings {
  uint32_t max_connections = 50;   // at once, per client IP
  uint32_t max_connect_rate = 0;   // new connections per second, per IP
  uint32_t max_auth_failures = 10; // failed AUTH per minute, per IP
};

class ClientLimits {
 public:
  enum class Verdict { kOk, kTooManyConnections, kTooFast };

  explicit ClientLimits(ClientLimitSettings settings);

  // admit counts a new connection and says whether it may go on. Only
  // kOk holds a slot (release it when the connection closes).
  Verdict admit(const sockaddr* peer, int64_t now_ms);
  void release(const sockaddr* peer);

  void auth_failed(const sockaddr* peer, int64_t now_ms);
  // auth_blocked: this client used up its failed AUTHs for this minute.
  bool auth_blocked(const sockaddr* peer, int64_t now_ms) const;

  const ClientLimitSettings& settings() const { return _settings; }

 private:
  static constexpr size_t kCells = 16384;  // per row; a power of two
  struct Cells {
    std::array<std::atomic<uint32_t>, 2 * kCells> connections{};
    std::array<std::atomic<uint64_t>, 2 * kCells> connect_rate{};  // window << 32 | count
    std::array<std::atomic<uint64_t>, 2 * kCells> auth_failures{};
  };
  struct Key {
    size_t a, b;  // one cell per row
  };
  static Key key(const sockaddr* peer);
  static uint32_t bump_window(std::atomic<uint64_t>& cell, uint32_t window);
  static uint32_t read_window(const std::atomic<uint64_t>& cell, uint32_t window);

  const ClientLimitSettings _settings;
  std::unique_ptr<Cells> _cells;  // ~450 KiB: on the heap
};

}  // namespace ringmta

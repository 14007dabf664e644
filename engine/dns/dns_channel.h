// engine/dns/dns_channel.h — one c-ares channel driven from a shard's io_uring:
// c-ares does the DNS protocol (ids, retries, TCP fallback), the ring does
// the waiting. Nothing here blocks. Raw answers come out in a queue; the
// resolver (engine/dns/dns_resolver.h) makes sense of them.
//
//   auto ch = DnsChannel::create(ring, {"127.0.0.1:5353", 2000, 2});
//   ch->query("example.test", kDnsTypeMx);
//   ... for each cqe with Op::kDns: ch->on_cqe(cqe);
//   ... each loop iteration:        ch->process_timeouts();
//   for (DnsReply& r : ch->take_replies()) { ... }
//
// Sockets: c-ares reports each socket it opens, closes, or wants to write
// on through its sock_state callback, and each gets a one-shot poll request
// tagged encode(Op::kDns, fd, gen). A poll on an fd that c-ares closes is
// removed at once (it pins the old socket, so it would never fire for a new
// socket that reuses the number), and its late completion no longer matches
// the fd's generation, so it is dropped. ares_getsock would report at most
// 16 sockets and cannot tell a closed-and-reopened fd from the same one.
#pragma once

#include <ares.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/runtime/ring.h"

namespace ringmta {

struct DnsServerOptions {
  // servers: "host:port,host:port" (ares_set_servers_ports_csv); empty
  // means the servers in /etc/resolv.conf.
  std::string servers;
  int timeout_ms = 2000;  // first try; c-ares doubles it on each round
  int tries = 2;
};

struct DnsReply {
  uint16_t type = 0;
  std::string name;
  int status = ARES_SUCCESS;  // c-ares status: ARES_SUCCESS, ARES_ENOTFOUND, ...
  std::string message;        // the raw response, when there was one
};

class DnsChannel {
 public:
  // create builds the channel; it reads /etc/resolv.conf once (at start-up,
  // not on the hot path) for anything `options` leaves unset.
  static absl::StatusOr<std::unique_ptr<DnsChannel>> create(Ring* ring,
                                                            const DnsServerOptions& options);
  // ~DnsChannel removes its pending polls (the Ring must still exist) and
  // drops unanswered queries without a reply.
  ~DnsChannel();
  DnsChannel(const DnsChannel&) = delete;
  DnsChannel& operator=(const DnsChannel&) = delete;

  // query sends a query of `type` for `name` (class IN, no search list).
  void query(std::string_view name, uint16_t type);
  // on_cqe takes a completion tagged Op::kDns.
  void on_cqe(const io_uring_cqe* cqe);
  // process_timeouts lets c-ares retry or fail queries whose time is up;
  // cheap when nothing is due.
  void process_timeouts();
  // wait_bound_us says how long the shard may sleep before
  // process_timeouts has work: -1 when no query is outstanding.
  int64_t wait_bound_us() const;

  bool has_replies() const { return !_replies.empty(); }
  std::vector<DnsReply> take_replies() { return std::exchange(_replies, {}); }

  uint64_t queries_sent() const { return _queries_sent; }
  size_t outstanding() const { return _outstanding; }
  size_t open_sockets() const { return _socks.size(); }

 private:
  struct Socket {
    uint32_t want = 0;   // POLLIN / POLLOUT, as c-ares last asked
    uint32_t armed = 0;  // the events of the pending poll, 0 if none
    uint32_t gen = 0;    // the pending poll's generation
  };
  struct Query {
    DnsChannel* channel;
    uint16_t type;
    std::string name;
  };

  explicit DnsChannel(Ring* ring) : _ring(ring) {}
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void remove_poll(int fd, Socket& s);
  // after_ares brings the polls and the deadline in line with what c-ares
  // wants now; called after every call into c-ares.
  void after_ares();

  void send(std::string name, uint16_t type);
  void send_waiting();

  // How often timeouts are looked at while queries are out (after_ares).
  static constexpr int64_t kTimeoutCheckUs = 100'000;
  // Queries on the wire at once; more wait their turn (_waiting). A burst
  // of thousands of new domains would otherwise overflow the server's
  // socket buffer (a local dnsmasq drops past ~250), and every dropped
  // query costs a retransmit timeout, then a deferral.
  static constexpr size_t kMaxInFlight = 64;

  Ring* _ring;
  ares_channel _channel = nullptr;
  absl::flat_hash_map<int, Socket> _socks;
  uint32_t _next_gen = 0;
  int64_t _deadline_us = -1;
  bool _destroying = false;
  size_t _outstanding = 0;  // asked and not yet answered: in flight or waiting
  size_t _in_flight = 0;
  std::deque<std::pair<std::string, uint16_t>> _waiting;
  uint64_t _queries_sent = 0;
  std::vector<DnsReply> _replies;
};

}  // namespace ringmta

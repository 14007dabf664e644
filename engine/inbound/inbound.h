// engine/inbound/inbound.h — a shard's inbound SMTP: its listeners
// (multishot accept), connections and server sessions, their I/O (multishot
// recv into the shard's buffer ring, one send in flight), TLS, session
// timers, per-client-IP limits, and SMTP AUTH through the auth thread. A
// finished message goes down to Signing (and from there to the Store); the
// session is answered when the Store says it is durable (on_stored).
//
//   Inbound in(ctx, listen_fds, listen_tls, services, signing, store, suppression);
//   in.start();                           // arm accepts and eventfd reads
//   ... store's answer hook: in.on_stored(slot, gen, ok);
//
// Files: inbound.cc (the component: start, dispatch, ticks, stop),
// inbound_accept.cc (accept and timers), inbound_io.cc (a connection's
// bytes and its session), inbound_auth.cc (AUTH and SIGHUP's reload).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/dkim/signing.h"
#include "engine/inbound/connection.h"
#include "engine/inbound/inbound_services.h"
#include "engine/runtime/component.h"
#include "engine/runtime/slot_pool.h"
#include "engine/shard_context.h"
#include "engine/store/store.h"
#include "engine/suppression/suppression.h"
#include "proto/server_session.h"

namespace ringmta {

class Inbound : public Component {
 public:
  // listen_fds: this shard's own SO_REUSEPORT sockets, one per address;
  // listen_tls[i]: listener i speaks implicit TLS. Inbound closes them.
  Inbound(const ShardContext& ctx, std::vector<int> listen_fds, std::vector<bool> listen_tls,
          ShardServices& services, Signing& signing, Store& store, Suppression* suppression);
  ~Inbound();
  Inbound(const Inbound&) = delete;
  Inbound& operator=(const Inbound&) = delete;

  // start arms the accepts and the auth and reload eventfd reads.
  void start();
  // on_stored answers the session (slot, gen) whose message the store made
  // durable (ok) or failed.
  void on_stored(uint32_t slot, uint32_t gen, bool ok);
  uint64_t connections() const { return _accepted; }
  size_t open_connections() const { return _conns.in_use(); }

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  int64_t wait_bound_us(int64_t now_ms) const override;
  void after_wait(int64_t now_ms) override;
  void on_tick(int64_t now_ms) override;
  void begin_stop() override;
  bool drained() const override { return _conns.in_use() == 0; }

 private:
  // Accept and timers (inbound_accept.cc).
  void arm_accept(uint32_t listener);
  void on_accept(uint32_t listener, io_uring_cqe* cqe);
  void check_timers(uint32_t slot, int64_t now_ms);

  // A connection's I/O and its session (inbound_io.cc).
  Connection* live(uint32_t slot, uint32_t gen);
  void arm_recv(uint32_t slot);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  bool tls_input(uint32_t slot, std::string_view data, std::string* plain);
  void feed(uint32_t slot, std::string_view data);
  void run_session(uint32_t slot);
  void observe_progress(Connection& c);
  void flush(uint32_t slot);
  void on_send(uint32_t slot, io_uring_cqe* cqe);
  void shut(uint32_t slot);
  void maybe_release(uint32_t slot);

  // AUTH and SIGHUP (inbound_auth.cc).
  void arm_auth_read();
  void start_auth(uint32_t slot);
  void on_auth_ready();
  void answer_delayed_auth(int64_t now_ms);
  void arm_reload_read();
  void on_reload();

  const ShardContext& _ctx;
  ShardServices& _services;
  Signing& _signing;  // a finished message goes here (and on to the store)
  Store& _store;      // queue ids
  std::vector<int> _listen_fds;
  std::vector<bool> _listen_tls;
  std::unique_ptr<TlsContext> _tls_server;  // when a certificate is configured
  proto::SessionConfig _session_config;
  // The kernel holds pointers into connections (an in-flight send of a
  // short reply points into the std::string's inline buffer): a SlotPool
  // never moves one.
  SlotPool<Connection> _conns;
  std::string _plain;  // feed()'s decrypted input, reused across reads
  uint64_t _auth_ready_count = 0;  // read buffer for the auth eventfd
  uint64_t _reload_count = 0;      // read buffer for the reload eventfd
  // Failed AUTHs are answered after a constant delay, so oldest first.
  struct DelayedAuth {
    int64_t due_ms;
    uint32_t slot;
    uint32_t gen;
  };
  std::deque<DelayedAuth> _auth_delayed;
  int64_t _stop_deadline_ms = 0;
  uint64_t _accepted = 0;
};

}  // namespace ringmta

// bench/smtpblast_client.h — smtpblast's load generator: one thread, one
// io_uring, C connections each driving a proto::ClientSession.
//
//   Client c(options);
//   int status = c.run();   // 0: every message got a 2xx
//
// Closed loop by default: a connection starts its next message as soon as
// the previous one has its reply. With --rate, open loop: message k is due
// at start + k/rate and goes to the next free connection; its latency runs
// from that scheduled time, so a server that stalls cannot hide the wait
// (no coordinated omission).
//
// --tls: every connection does STARTTLS (RFC 3207) after EHLO, required: a
// server that does not offer it, or a failed first handshake, stops the
// run at once with the reason. TLS runs over the same buffers through
// engine/tls/tls_session.h (smtpblast_client_tls.cc), as ringmta's outbound
// connections do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/smtpblast_message.h"
#include "bench/smtpblast_options.h"
#include "bench/smtpblast_report.h"
#include "engine/runtime/buffer_ring.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/ring.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_session.h"
#include "proto/client_session.h"

struct io_uring_cqe;

namespace ringmta::blast {

class Client {
 public:
  explicit Client(const Options& options);
  // run returns the exit status; the summary is printed on stdout.
  int run();

 private:
  struct Conn {
    int fd = -1;
    uint32_t gen = 0;
    bool connecting = false;
    bool shut = false;
    bool send_in_flight = false;
    bool recv_armed = false;
    bool idle_listed = false;   // in _idle (open loop)
    bool error_counted = false;
    bool backoff = false;  // refused before any message: reconnect after kRetryNs
    std::unique_ptr<proto::ClientSession> session;
    std::string sending;
    size_t sent = 0;
    std::string pending;        // replies not yet consumed
    std::string headers;        // this connection's copy: Message-ID patched per message
    proto::OutboundMessage message;
    bool in_txn = false;
    bool stamped = false;       // start_ns holds the end-of-data time
    int64_t start_ns = 0;       // end of data sent, or the scheduled time
    uint32_t on_conn = 0;       // messages started on this connection
    int64_t retry_at_ns = 0;    // reconnect after this (0: not waiting)
    std::unique_ptr<TlsSession> tls;  // from the server's 220 to STARTTLS on
    size_t plain_pos = 0;             // session output already encrypted
    std::string tls_error;            // why TLS failed on this connection
  };

  bool setup();
  void loop();
  void on_cqe(io_uring_cqe* cqe);
  void connect(uint32_t slot);
  void arm_recv(uint32_t slot);
  void drive(uint32_t slot);
  void flush(uint32_t slot);
  // start_tls begins the handshake after the 220 to STARTTLS.
  void start_tls(uint32_t slot);
  // tls_input decrypts *data in place of it (a view of _plain); false when
  // TLS failed, which ends the connection.
  bool tls_input(uint32_t slot, std::string_view* data);
  // connection_failed counts a failed session; a --tls run stops when TLS
  // could not be set up even once.
  void connection_failed(uint32_t slot);
  void shut(uint32_t slot);
  void release(uint32_t slot);
  void finish_message(uint32_t slot);
  void dispatch_due();
  // take_work claims the next message if one may start now; *start_ns is
  // its scheduled time (open loop) or 0.
  bool take_work(int64_t* start_ns);
  // more_work: messages remain to be started, now or later.
  bool more_work() const;
  bool start_message(uint32_t slot);
  // unclaimed: open connections that have not started a message yet.
  uint32_t unclaimed() const;
  int64_t next_wake_ns() const;
  void stop(std::string_view why);
  int finish();

  const Options& _opts;
  std::unique_ptr<Ring> _ring;
  std::unique_ptr<BufferRing> _buffers;
  Endpoint _server;
  proto::ClientConfig _client_config;
  std::unique_ptr<TlsContext> _tls;  // --tls
  std::string _plain;                // decrypted input, reused for every recv
  MessageTemplate _template;
  std::vector<Conn> _conns;
  std::vector<uint32_t> _idle;  // ready connections waiting for a due message
  ClientStats _stats;
  Progress _progress;

  int64_t _start_ns = 0;        // the first connect
  int64_t _last_result_ns = 0;
  int64_t _send_until_ns = 0;   // --duration: no message starts after this
  int64_t _deadline_ns = 0;     // --timeout
  int64_t _drain_until_ns = 0;  // all done: QUITs get this long
  uint64_t _total = 0;          // messages to start; 0 with a closed-loop --duration
  double _interval_ns = 0;      // open loop: 1e9 / rate
  uint64_t _next_id = 0;        // Message-ID counter
  uint32_t _open = 0;           // sockets not yet closed
  bool _ever_connected = false;
  bool _stopping = false;
  std::string _last_error;
};

}  // namespace ringmta::blast

// bench/smtpblast_sink.h — smtpblast's receiving side: an ESMTP server that
// discards what it receives, on one thread and one io_uring (multishot
// accept, multishot recv into a provided-buffer ring).
//
//   Sink s(options);
//   int status = s.run();   // returns on --expect N, a signal, or --timeout
//
// Each connection drives a proto::ServerSession (PIPELINING, SIZE,
// 8BITMIME, CHUNKING) whose queue ids come from a counter. A finished
// message is answered at once — no spool — with a reply drawn from
// --reply-mix (a deterministic PRNG, --seed), or 421 and a close for a
// --disconnect-rate fraction. --delay holds chosen replies with io_uring
// timeouts; the loop never sleeps. Per message, nothing here allocates:
// bodies are dropped by the session itself when it resets.
//
// --tls-cert/--tls-key: the session offers STARTTLS (RFC 3207); after the
// plaintext 220 the connection's bytes go through an engine/tls/tls_session.h
// TlsSession (smtpblast_sink_tls.cc), as ringmta's inbound connections do,
// and the summary counts TLS sessions and the messages that came over TLS.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bench/smtpblast_options.h"
#include "bench/smtpblast_report.h"
#include "engine/runtime/buffer_ring.h"
#include "engine/runtime/ring.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_session.h"
#include "proto/server_session.h"

namespace ringmta::blast {

class Sink {
 public:
  explicit Sink(const Options& options);
  int run();

 private:
  // What a connection's reply is held for (--delay).
  enum class Hold : uint8_t { kNone, kGreeting, kCommand, kEndOfData };

  struct Conn {
    int fd = -1;
    uint32_t gen = 0;
    bool shut = false;
    bool send_in_flight = false;
    bool recv_armed = false;
    bool timer_armed = false;
    Hold hold = Hold::kNone;
    bool line_released = false;  // the held command line may now be fed
    int held_choice = 0;         // kEndOfData: index into _replies, -1: disconnect
    __kernel_timespec ts{};      // read by the kernel at submission: must stay put
    std::unique_ptr<proto::ServerSession> session;
    std::string sending;
    size_t sent = 0;
    std::string pending;  // input held back while a reply is delayed
    std::unique_ptr<TlsSession> tls;  // from the 220 to STARTTLS on
    size_t plain_pos = 0;             // session output already encrypted
    std::string plain_out;            // the 220 to STARTTLS: the last plaintext
  };

  // A reply of the mix: the code, its weight's upper bound, and its line
  // ("" for 250: ServerSession's own "queued as" reply).
  struct MixReply {
    int code = 250;
    uint64_t cumulative = 0;
    std::string line;
  };

  bool setup();
  void on_cqe(io_uring_cqe* cqe);
  void arm_accept();
  void on_accept(int fd);
  void arm_recv(uint32_t slot);
  size_t feed(uint32_t slot, std::string_view in);
  void run_session(uint32_t slot);
  void on_message(uint32_t slot);
  void answer(uint32_t slot, int choice);
  int choose();
  uint32_t delay_for(std::string_view line) const;
  void hold(uint32_t slot, Hold what, uint32_t ms);
  void on_timer(uint32_t slot);
  void flush(uint32_t slot);
  // start_tls: the 220 to STARTTLS is queued; everything after it is TLS.
  void start_tls(uint32_t slot);
  // tls_input decrypts *data in place of it (a view of _plain); false when
  // TLS failed (the connection is shut).
  bool tls_input(uint32_t slot, std::string_view* data);
  void shut(uint32_t slot);
  void release(uint32_t slot);
  uint64_t next_random();
  int finish(int status, const char* why);

  const Options& _opts;
  std::unique_ptr<Ring> _ring;
  std::unique_ptr<BufferRing> _buffers;
  int _listen_fd = -1;
  proto::SessionConfig _session_config;
  std::unique_ptr<TlsContext> _tls;  // --tls-cert/--tls-key
  std::string _plain;                // decrypted input, reused for every recv
  std::deque<Conn> _conns;  // a deque: growing never moves a Conn (ts, SSO sends)
  std::vector<uint32_t> _free;
  std::vector<MixReply> _mix;
  uint64_t _mix_total = 0;
  uint32_t _connect_delay = 0;
  uint32_t _data_delay = 0;
  bool _command_delays = false;  // any --delay other than connect/data
  uint64_t _random = 0;
  uint64_t _queue_ids = 0;
  uint32_t _open = 0;
  SinkStats _stats;
  int64_t _first_ns = 0;
  int64_t _exit_at_ns = 0;  // --expect reached: leave once clients are gone or then
};

}  // namespace ringmta::blast

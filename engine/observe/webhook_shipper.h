// engine/observe/webhook_shipper.h — event webhooks: the lines of the event
// log (`--event-log`) POSTed, in batches, to each [[webhook]] of the config
// (engine/config/webhook_file.h), at least once and in file order.
//
//   WebhookShipper hooks(ctx, event_log_fd);   // on shard 0 only
//   hooks.start();                             // resumes from the offset files
//
// One shard (shard 0) ships for all: the event log file, which every shard
// appends to, is the durable source, so the shipper tails the file rather
// than taking lines from the shards. Per webhook:
//
//   read    IORING_OP_READ of the file at the next offset (64 KiB at a
//           time; at the end of the file, again after kTailMs), lines
//           split, filtered by `events`, queued; reading stops while two
//           batches (or kMaxAheadBytes) wait, so memory stays bounded
//           (that, plus one read's lines).
//   batch   up to batch_size lines as a JSON array, once batch_size wait
//           or the oldest has waited max_delay.
//   POST    over one keep-alive HTTP/1.1 connection on the shard's ring
//           (connect with a linked timeout, multishot recv, responses read
//           with proto::HttpParser). 2xx: acknowledged. 5xx, 408, 429, a
//           refused or timed-out connection, a response not in time: the
//           same batch again after a backoff (1 s doubling to 60 s, with
//           jitter); nothing behind it goes first. Another 4xx: logged and
//           skipped (the receiver will never take it).
//   offset  after each acknowledged batch, `<spool>/<offset_file>` (the
//           bytes of the log acknowledged) is replaced: openat, write,
//           renameat through the ring. It is not fsynced: a lost update
//           only means a batch is sent again (at-least-once).
//
// A stop gives a POST in flight up to kStopGraceMs, then abandons it (its
// batch is sent again at the next start).
#pragma once

#include <linux/time_types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/config/webhook_file.h"
#include "engine/runtime/component.h"
#include "engine/runtime/socket_io.h"
#include "engine/shard_context.h"
#include "proto/http_parse.h"

namespace ringmta {

class WebhookShipper : public Component {
 public:
  WebhookShipper(const ShardContext& ctx, int event_log_fd);
  ~WebhookShipper();
  WebhookShipper(const WebhookShipper&) = delete;
  WebhookShipper& operator=(const WebhookShipper&) = delete;

  // start reads each webhook's offset file (a small file read once, before
  // the loop runs) and starts tailing the log from there.
  void start();

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  void poll() override;
  int64_t wait_bound_us(int64_t now_ms) const override;
  void after_wait(int64_t now_ms) override;
  void begin_stop() override;
  bool drained() const override;

 private:
  // Progress over lines no webhook ships (and a failed update) is saved
  // at most this often.
  static constexpr int64_t kIdleSaveMs = 1000;

  struct Line {
    std::string text;  // without its '\n'
    uint64_t end;      // the file offset just past its '\n'
    int64_t seen_ms;   // when it was read (max_delay counts from it)
  };

  struct Hook {
    const Webhook* cfg = nullptr;
    uint32_t index = 0;  // into _hooks; the user_data slot
    std::string offset_path;
    std::string offset_tmp;

    // Tailing the log.
    uint64_t read_offset = 0;  // the next byte to read
    uint64_t scanned = 0;      // bytes split into whole lines (read_offset less `partial`)
    std::string partial;       // the start of a line whose '\n' has not been read yet
    bool skipping = false;     // inside an over-long line: drop up to its '\n'
    std::unique_ptr<char[]> read_buf;
    bool read_in_flight = false;
    int64_t next_read_ms = 0;
    std::deque<Line> lines;  // to ship, in file order; the batch in flight is the first batch_count
    size_t line_bytes = 0;

    // The batch in flight (sent, or waiting for its retry).
    bool batch_active = false;
    size_t batch_count = 0;
    uint64_t batch_end = 0;  // the offset acknowledged with it
    std::string request;     // its bytes, kept for a retry
    int64_t retry_at_ms = 0;
    int64_t backoff_ms = 0;
    bool retried_fresh = false;  // a reused connection failed: one retry at once on a new one

    // The connection.
    SocketIo io;
    uint32_t gen = 0;
    bool connecting = false;
    bool open = false;      // connected and usable
    bool shut = false;      // shut down; released once the kernel lets go
    bool awaiting = false;  // a request was sent, its response is not in
    bool reused = false;    // the request went over a connection that served one before
    bool got_bytes = false; // some of the response arrived
    std::unique_ptr<proto::HttpParser> parser;
    int64_t response_deadline_ms = 0;
    __kernel_timespec connect_timeout{};

    // The offset file.
    uint64_t acked = 0;   // bytes of the log acknowledged (or holding nothing to ship)
    uint64_t saved = 0;   // what the offset file says (or will, once the update in flight ends)
    uint64_t saving = 0;  // the value of the update in flight
    bool save_in_flight = false;
    bool save_failed = false;  // the last update failed (retried after kIdleSaveMs)
    int save_fd = -1;
    std::string save_text;
    int64_t last_save_ms = 0;

    // Counters for the stop log.
    uint64_t events_shipped = 0;
    uint64_t batches = 0;
    uint64_t failures = 0;
    uint64_t skipped = 0;
  };

  // Tailing and batching (webhook_shipper.cc).
  void read_stored_offset(Hook& h);
  void start_read(Hook& h);
  void on_read(Hook& h, int res, int64_t now_ms);
  void take_lines(Hook& h, const char* data, size_t len, int64_t now_ms);
  void maybe_batch(Hook& h, int64_t now_ms);
  void acknowledge(Hook& h);
  void maybe_save(Hook& h, int64_t now_ms);
  void on_offset(Hook& h, uint32_t step, int res);

  // The HTTP client (webhook_http.cc).
  void start_connect(Hook& h);
  void on_connect(Hook& h, int res);
  void send_request(Hook& h);
  void on_send(Hook& h, int res);
  void on_recv(Hook& h, io_uring_cqe* cqe);
  void on_response(Hook& h, const proto::HttpMessage& r);
  void fail_attempt(Hook& h, const std::string& why);
  void shut(Hook& h);
  void maybe_release(Hook& h);

  const ShardContext& _ctx;
  const int _fd;
  std::vector<Hook> _hooks;  // never resized: the kernel holds pointers into them
  proto::HttpLimits _limits;
  std::minstd_rand _jitter;
  int64_t _stop_deadline_ms = 0;
};

}  // namespace ringmta

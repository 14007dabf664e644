// engine/delivery/event_log.h — the delivery event log: one JSON object per line per
// recipient outcome, and one per shaping action and its end (`--event-log FILE`).
//
//   EventLog log(fd, shard); log.set_ring(ring);   // fd opened O_APPEND by main
//   log.add(event);                       // formats into the shard's buffer
//   poll(): one write of what is buffered, unless one is in flight
//   on its completion: on_completion → on_write(res)
//
// The shard owns it (a component of its own); Delivery and Outbound add to it.
//
// A shard never blocks on the log: lines collect in a buffer and go out in
// one io_uring write at a time. Every shard appends to the same O_APPEND
// file, and the kernel keeps each write whole, so lines never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/runtime/component.h"

namespace ringmta {

class Ring;

struct DeliveryEvent {
  std::string_view type;       // "delivered", "deferred", "bounced"
  std::string_view queue_id;
  std::string_view sender;
  std::string_view auth_user;  // who submitted it with SMTP AUTH; "" if nobody
  std::string_view tenant;     // X-Ringmta-Tenant: / -Campaign: of the message ("" if none)
  std::string_view campaign;
  std::string_view source;     // the egress source and pool it went from ("" without [egress])
  std::string_view pool;
  std::string_view recipient;
  std::string_view host;       // remote host name, "" if none was reached
  std::string_view ip;         // remote address, "" if none was reached
  int code = 0;                // SMTP reply code (remote, or local for local reasons)
  std::string_view status;     // enhanced status, e.g. "5.1.1"
  std::string_view response;   // the remote reply or the local reason
  std::string_view bounce_class;  // "InvalidRecipient", ... (bounce_class.h); "Uncategorized" if delivered
  uint32_t attempt = 0;
  absl::Time time;
  absl::Time next_retry;       // deferred only
};

// ShapingEvent: a backoff rule acted on a (source, site) queue, or its action ended.
struct ShapingEvent {
  std::string_view action;  // "suspend", "throttle", "suspend_end", "throttle_end"
  std::string_view site;
  std::string_view source;
  std::string_view rule;    // "rule 3"
  std::string_view reply;   // the reply that matched ("" for an end)
  absl::Time time;
  absl::Time until;         // when it ends (actions only)
  std::string_view tenant;  // a rule for one tenant's mail; "" for the whole queue
};

// FeedbackEvent: a suppression entry made on its own ("suppression_added"),
// and what comes back after delivery: "async_bounce" and "delayed" (RFC
// 3464 reports), "complaint" (ARF); empty fields are left out of the line.
struct FeedbackEvent {
  std::string_view type;
  std::string_view recipient;
  std::string_view queue_id;   // the message it is about ("" if unknown)
  std::string_view tenant;
  std::string_view campaign;
  std::string_view reason;     // the suppression reason, or the ARF Feedback-Type
  std::string_view status;     // enhanced status ("5.1.1")
  std::string_view response;   // diagnostic text, or the entry's note
  std::string_view bounce_class;
  std::string_view reporter;   // Reporting-MTA, or the ARF User-Agent
  std::string_view feedback_id;  // the returned message's Feedback-ID:
  absl::Time time;
};

class EventLog : public Component {
 public:
  EventLog(int fd, uint32_t shard) : _fd(fd), _shard(shard) {}
  void set_ring(Ring* ring) { _ring = ring; }
  bool enabled() const { return _fd >= 0; }
  void add(const DeliveryEvent& e);
  void add(const ShapingEvent& e);
  void add(const FeedbackEvent& e);

  void on_completion(const UserData& /*ud*/, io_uring_cqe* cqe) override;
  void poll() override { flush(); }
  bool drained() const override { return idle(); }
  // flush starts a write of what is buffered, unless one is in flight.
  void flush();
  void on_write(int res);
  bool idle() const { return !_in_flight && _buffer.empty(); }

 private:
  int _fd;
  Ring* _ring = nullptr;
  uint32_t _shard;
  std::string _buffer;    // lines not yet handed to the kernel
  std::string _writing;   // the buffer of the write in flight
  size_t _written = 0;
  bool _in_flight = false;
  uint64_t _lost_bytes = 0;
};


}  // namespace ringmta

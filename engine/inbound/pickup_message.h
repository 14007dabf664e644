// engine/inbound/pickup_message.h — a maildrop file (spool/maildrop.h)
// turned into the messages to spool: the envelope's addresses checked as
// MAIL FROM / RCPT TO check them, the content's lines made CRLF, and what
// the end of DATA applies (proto/message_finish.h). Pure: the pickup
// (pickup.h) reads the file and stores the result.
//
//   PickupBuild b = build_pickup_messages(parsed, options);
//   if (!b.error.empty()) set the file aside: b.error says why
//   for (auto& m : b.messages) signing.submit(std::move(m), ...);
//
// A file with more recipients than limits.max_recipients becomes several
// messages of at most that many, the way the injection API cuts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "proto/server_session.h"
#include "spool/maildrop.h"

namespace ringmta {

struct PickupOptions {
  std::string_view hostname;
  absl::Time now;
  uint64_t max_message_size = 50ull << 20;
  size_t max_recipients = 1000;
  size_t max_text_line = 1000;
  bool require_list_unsubscribe = false;
  std::string_view postmaster;  // where <postmaster> goes; "": refused, as at RCPT TO
  std::function<std::string()> new_queue_id;
};

struct PickupBuild {
  std::vector<std::unique_ptr<proto::CompletedMessage>> messages;
  std::vector<std::string> refused;  // "ADDRESS: why", recipients left out
  std::string error;                 // non-empty: nothing to store, and why
};

PickupBuild build_pickup_messages(const spool::MaildropMessage& file, const PickupOptions& o);

// crlf_lines: text with every bare LF made CRLF (a writer may have kept
// the caller's LF lines).
std::string crlf_lines(std::string_view text);

}  // namespace ringmta

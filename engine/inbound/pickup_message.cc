// engine/inbound/pickup_message.cc — from a maildrop file to spool-ready
// messages (pickup_message.h).
#include "engine/inbound/pickup_message.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "proto/address.h"
#include "proto/message_finish.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

// checked: the stored form of an address, or "" with *why set. SMTPUTF8
// addresses are accepted (the message is then sent with SMTPUTF8).
std::string checked(std::string_view addr, bool sender, bool* utf8, std::string* why) {
  if (sender && addr.empty()) {
    return "";
  }
  const std::string path = absl::StrCat("<", av(addr), ">");
  proto::PathOptions po;
  po.smtputf8 = true;
  po.long_local = true;
  po.allow_postmaster = !sender;
  proto::Address a;
  switch (proto::parse_path(path, po, &a)) {
    case proto::PathStatus::kOk:
      break;
    case proto::PathStatus::kTooLong:
      *why = "too long (RFC 5321 4.5.3.1)";
      return "";
    default:
      *why = "not a valid address";
      return "";
  }
  *utf8 |= a.has_utf8;
  return proto::address_text(a);
}

// recipient: a recipient's stored form; <postmaster> goes where RCPT TO
// sends it (proto/server_session.h says why it is refused without one).
std::string recipient(std::string_view addr, std::string_view postmaster, bool* utf8, std::string* why) {
  std::string a = checked(addr, false, utf8, why);
  if (why->empty() && a == "postmaster") {
    if (postmaster.empty()) {
      *why = "no postmaster mailbox is configured here (server.postmaster)";
      return "";
    }
    return std::string(postmaster);
  }
  return a;
}

}  // namespace

std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      out.push_back('\r');
    }
    out.push_back(text[i]);
  }
  if (!out.empty() && out.back() != '\n') {
    out.append("\r\n");  // a last line without its end
  }
  return out;
}

PickupBuild build_pickup_messages(const spool::MaildropMessage& file, const PickupOptions& o) {
  PickupBuild out;
  const spool::MaildropEnvelope& env = file.envelope;
  bool utf8 = false;
  std::string why;
  std::string sender = checked(env.sender, true, &utf8, &why);
  if (!why.empty()) {
    out.error = absl::StrCat("sender <", env.sender, ">: ", why);
    return out;
  }
  std::vector<std::string> rcpts;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& r : env.recipients) {
    why.clear();
    std::string a = recipient(r, o.postmaster, &utf8, &why);
    if (!why.empty()) {
      out.refused.push_back(absl::StrCat(r, ": ", why));
    } else if (seen.insert(a).second) {
      rcpts.push_back(std::move(a));
    }
  }
  if (rcpts.empty()) {
    out.error = "no valid recipient";
    return out;
  }
  std::string body = crlf_lines(file.content);
  if (body.size() > o.max_message_size) {
    out.error = absl::StrCat("message size ", body.size(), " exceeds the limit of ", o.max_message_size,
                             " bytes (--max-message-size)");
    return out;
  }
  const absl::Time arrival = env.arrival_us > 0 ? absl::FromUnixMicros(env.arrival_us) : o.now;
  proto::FinishOptions f;
  f.hostname = o.hostname;
  f.local_origin = env.origin;
  f.protocol = "local";
  f.now = o.now;
  f.max_message_size = o.max_message_size;
  f.max_text_line = o.max_text_line;
  f.require_list_unsubscribe = o.require_list_unsubscribe;
  const size_t per = std::max<size_t>(1, o.max_recipients);
  for (size_t start = 0; start < rcpts.size(); start += per) {
    auto m = std::make_unique<proto::CompletedMessage>();
    m->queue_id = o.new_queue_id();
    m->arrival = arrival;
    m->envelope.sender = sender;
    m->envelope.smtputf8 = utf8;
    m->envelope.helo = std::string(o.hostname);
    const size_t end = std::min(rcpts.size(), start + per);
    m->envelope.recipients.assign(rcpts.begin() + start, rcpts.begin() + end);
    m->body = end == rcpts.size() ? std::move(body) : body;  // the last (usually only) one takes it
    if (absl::Status s = proto::finish_message(f, m.get()); !s.ok()) {
      out.messages.clear();
      out.error = std::string(s.message());
      return out;
    }
    out.messages.push_back(std::move(m));
  }
  return out;
}

}  // namespace ringmta

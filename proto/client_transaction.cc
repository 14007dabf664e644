// proto/client_transaction.cc — ClientSession's transaction: the checks
// before sending, then MAIL, RCPT and DATA or BDAT (one pipelined batch, or
// lock-step) and the content in its wire form.
#include <utility>

#include "proto/address.h"
#include "proto/client_content.h"
#include "proto/client_session_impl.h"
#include "proto/reply.h"

namespace ringmta::proto {
namespace {

// safe_path: an address we put between <> on a command line. Addresses come
// validated from the spool; this only guarantees that no byte of one can
// end the command line early (command injection).
bool safe_path(std::string_view address) {
  if (address.size() > kMaxPath) {
    return false;
  }
  for (char c : address) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      return false;
    }
  }
  return true;
}

}  // namespace

void ClientSession::Impl::write_mail() {
  append_pieces(&out, {"MAIL FROM:<", message.sender, ">"});
  if (caps.size) {
    out.append(" SIZE=");
    append_decimal(&out, content_size);
  }
  if (message.body_type == BodyType::k8BitMime && caps.eightbitmime) {
    out.append(" BODY=8BITMIME");
  }
  if (message.smtputf8) {
    out.append(" SMTPUTF8");
  }
  out.append("\r\n");
  expect(Await::kMail);
}

size_t ClientSession::Impl::next_sendable(size_t from) const {
  while (from < result.recipients.size() && result.recipients[from].reply.code != 0) {
    ++from;
  }
  return from;
}

void ClientSession::Impl::write_rcpt(size_t i) {
  append_pieces(&out, {"RCPT TO:<", message.recipients[i], ">\r\n"});
  expect(Await::kRcpt, static_cast<uint32_t>(i));
}

void ClientSession::Impl::write_content(bool stuff) {
  out.reserve(out.size() + content_size + content_size / 32 + 8);
  append_wire_content(&out, message.trace_headers, message.body, max_line, stuff);
}

void ClientSession::Impl::write_data_or_bdat() {
  if (chunked) {
    out.append("BDAT ");
    append_decimal(&out, content_size);
    out.append(" LAST\r\n");
    write_content(false);
    expect(Await::kBdat);
  } else {
    out.append("DATA\r\n");
    expect(Await::kData);
  }
}

bool ClientSession::ready() const {
  const Impl& s = *_impl;
  return s.greeted && !s.closed && !s.in_transaction && !s.result_ready && !s.awaiting();
}

bool ClientSession::send_message(const OutboundMessage& message) {
  Impl& s = *_impl;
  if (!ready() || message.recipients.empty()) {
    return false;
  }
  s.message = message;
  const size_t n = message.recipients.size();
  s.result = TransactionResult{};
  s.result.recipients.resize(n);
  s.accepted.assign(n, false);
  s.accepted_count = 0;
  s.mail_ok = false;
  s.content_size = wire_content_size(message.trace_headers, message.body, s.max_line);

  Reply refusal;
  if (!safe_path(message.sender)) {
    refusal = make_local_reply(553, "5.1.7", "unsafe sender address");
  } else if (message.smtputf8 && !s.caps.smtputf8) {
    refusal = make_local_reply(553, "5.6.7", "SMTPUTF8 is required, but was not offered by the server");
  } else if (s.caps.size && s.caps.max_size > 0 && s.content_size > s.caps.max_size) {
    std::string text = "message size ";
    append_decimal(&text, s.content_size);
    text.append(" exceeds the server's limit of ");
    append_decimal(&text, s.caps.max_size);
    refusal = make_local_reply(552, "5.3.4", text);
  }
  for (size_t i = 0; i < n && refusal.code == 0; ++i) {
    if (!safe_path(message.recipients[i])) {
      s.result.recipients[i].reply = make_local_reply(553, "5.1.3", "unsafe recipient address");
    }
  }
  if (refusal.code != 0 || s.next_sendable(0) == n) {
    s.resolve_unresolved(refusal);
    s.result_ready = true;
    return true;
  }

  s.in_transaction = true;
  s.pipelined = s.caps.pipelining && s.config.use_pipelining;
  // LMTP's BDAT gets per-recipient replies too; DATA alone keeps one path.
  s.chunked = s.caps.chunking && s.config.use_chunking && !s.config.lmtp;
  s.next_rcpt = 0;
  if (s.needs_rset) {
    s.needs_rset = false;
    s.out.append("RSET\r\n");
    s.expect(Await::kRset);
    if (!s.pipelined) {
      return true;  // MAIL follows RSET's reply
    }
  }
  s.write_mail();
  if (s.pipelined) {
    for (size_t i = s.next_sendable(0); i < n; i = s.next_sendable(i + 1)) {
      s.write_rcpt(i);
    }
    s.write_data_or_bdat();
  }
  return true;
}

bool ClientSession::has_result() const { return _impl->result_ready; }

TransactionResult ClientSession::take_result() {
  Impl& s = *_impl;
  s.result_ready = false;
  s.message = OutboundMessage{};
  return std::move(s.result);
}

void ClientSession::quit() {
  Impl& s = *_impl;
  if (s.closed) {
    return;
  }
  s.out.append("QUIT\r\n");
  s.expect(Await::kQuit);
}

}  // namespace ringmta::proto

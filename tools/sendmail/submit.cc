// tools/sendmail/submit.cc — one SMTP transaction (submit.h).
#include "tools/sendmail/submit.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "proto/client_content.h"
#include "tools/sendmail/smtp_connection.h"

namespace ringmta::sendmail {
namespace {

bool non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

SubmitResult from_reply(const proto::Reply& r, std::string_view step) {
  SubmitResult res;
  res.outcome = r.code >= 500 ? Outcome::kRefused : r.code >= 400 ? Outcome::kTryLater : Outcome::kUnreachable;
  res.detail = absl::StrCat(av(step), ": ", proto::format_reply(r));
  return res;
}

}  // namespace

bool has_8bit(std::string_view content) { return non_ascii(content); }

bool needs_smtputf8(const Submission& s) {
  if (non_ascii(s.sender)) return true;
  for (const std::string& r : s.recipients) {
    if (non_ascii(r)) return true;
  }
  return false;
}

bool wants_smtputf8(const Submission& s) {
  size_t end = s.content.find("\r\n\r\n");
  return needs_smtputf8(s) || non_ascii(std::string_view(s.content).substr(0, end));
}

SubmitResult submit_message(const HostPort& server, const Submission& s, const SubmitOptions& o) {
  absl::StatusOr<SmtpConnection> conn = SmtpConnection::open(server, o.connect_timeout_s);
  if (!conn.ok()) return {Outcome::kUnreachable, std::string(conn.status().message())};
  conn->set_verbose(o.verbose);
  // Each step: send a command (if any), read its reply, and stop at
  // anything that is not the expected class.
  auto step = [&](std::string_view command, int want, std::string_view what,
                  SubmitResult* fail) -> bool {
    if (!command.empty()) {
      if (absl::Status st = conn->write(command); !st.ok()) {
        *fail = {Outcome::kUnreachable, absl::StrCat(av(what), ": ", st.message())};
        return false;
      }
    }
    absl::StatusOr<proto::Reply> r = conn->read_reply(o.reply_timeout_s);
    if (!r.ok()) {
      *fail = {Outcome::kUnreachable, absl::StrCat(av(what), ": ", r.status().message())};
      return false;
    }
    if (r->code / 100 != want) {
      *fail = from_reply(*r, what);
      if (fail->outcome == Outcome::kUnreachable) fail->outcome = Outcome::kTryLater;  // 1xx/3xx where 2xx was due
      (void)conn->write("QUIT\r\n");
      return false;
    }
    return true;
  };

  SubmitResult fail;
  if (!step("", 2, "greeting", &fail)) return fail;
  if (!step(absl::StrCat("EHLO ", o.helo, "\r\n"), 2, "EHLO", &fail)) return fail;
  proto::EhloCapabilities caps = proto::parse_ehlo_keywords(conn->reply_lines());

  std::string params;
  const uint64_t size = proto::wire_content_size("", s.content, proto::kMaxWireLine);
  if (caps.size) {
    if (caps.max_size != 0 && size > caps.max_size) {
      (void)conn->write("QUIT\r\n");
      return {Outcome::kRefused, absl::StrCat("the message (", size, " octets) is larger than the server's limit (",
                                              caps.max_size, " octets)")};
    }
    absl::StrAppend(&params, " SIZE=", size);
  }
  if (has_8bit(s.content) && caps.eightbitmime) params += " BODY=8BITMIME";
  if (needs_smtputf8(s) && !caps.smtputf8) {
    (void)conn->write("QUIT\r\n");
    return {Outcome::kRefused, "an address is not ASCII and the server does not offer SMTPUTF8"};
  }
  if (wants_smtputf8(s) && caps.smtputf8) params += " SMTPUTF8";
  if (!step(absl::StrCat("MAIL FROM:<", s.sender, ">", params, "\r\n"), 2, "MAIL FROM", &fail)) return fail;
  for (const std::string& r : s.recipients) {
    if (!step(absl::StrCat("RCPT TO:<", r, ">\r\n"), 2, absl::StrCat("RCPT TO:<", r, ">"), &fail)) return fail;
  }
  if (!step("DATA\r\n", 3, "DATA", &fail)) return fail;
  std::string wire;
  wire.reserve(size + size / 64 + 8);
  proto::append_wire_content(&wire, "", s.content, proto::kMaxWireLine, /*dot_stuff=*/true);
  wire += ".\r\n";
  bool verbose = o.verbose;
  conn->set_verbose(false);  // the content is not the dialogue
  if (verbose) std::fprintf(stderr, "-> (%zu octets of content)\n-> .\n", wire.size());
  if (absl::Status st = conn->write(wire); !st.ok()) return {Outcome::kUnreachable, std::string(st.message())};
  conn->set_verbose(verbose);
  absl::StatusOr<proto::Reply> end = conn->read_reply(o.reply_timeout_s);
  if (!end.ok()) return {Outcome::kUnreachable, absl::StrCat("end of data: ", end.status().message())};
  if (end->code / 100 != 2) {
    SubmitResult r = from_reply(*end, "end of data");
    if (r.outcome == Outcome::kUnreachable) r.outcome = Outcome::kTryLater;
    (void)conn->write("QUIT\r\n");
    return r;
  }
  (void)conn->write("QUIT\r\n");
  (void)conn->read_reply(5);  // 221; the message is already accepted
  return {Outcome::kSent, proto::format_reply(*end)};
}

}  // namespace ringmta::sendmail

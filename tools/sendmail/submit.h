// tools/sendmail/submit.h — one message over SMTP to the server: EHLO,
// MAIL FROM, RCPT TO each, DATA (dot-stuffed), QUIT. No PIPELINING: one
// message per process, and the replies in step are easier to report.
//
//   SubmitResult r = submit_message(settings.server, {sender, rcpts, content}, {.helo = host});
//   switch (r.outcome) { case Outcome::kSent: ... case Outcome::kTryLater: maildrop ... }
//
// A recipient refused with 5xx refuses the whole message (RSET, nothing
// sent): the caller gets EX_DATAERR and may correct and resend without
// anyone receiving it twice.
#pragma once

#include <string>
#include <vector>

#include "tools/sendmail/server_config.h"

namespace ringmta::sendmail {

struct Submission {
  std::string sender;                   // "" is the null sender
  std::vector<std::string> recipients;  // at least one
  std::string content;                  // CRLF lines, not dot-stuffed
};

struct SubmitOptions {
  std::string helo;  // the name in EHLO
  bool verbose = false;
  int connect_timeout_s = 30;
  int reply_timeout_s = 300;  // RFC 5321 4.5.3.2: minutes for the end of DATA
};

enum class Outcome {
  kSent,         // 250 to the end of DATA
  kUnreachable,  // no connection, or it broke: keep the message
  kTryLater,     // a 4xx reply: keep the message
  kRefused,      // a 5xx reply, or the message cannot be sent as it is
};

struct SubmitResult {
  Outcome outcome = Outcome::kUnreachable;
  std::string detail;  // the reply or the error, for the message to the user
};

// needs_smtputf8: an address is not ASCII (RFC 6531): without the server's
// SMTPUTF8 it cannot be sent at all.
bool needs_smtputf8(const Submission& s);
// wants_smtputf8: the header section is not ASCII (RFC 6532): SMTPUTF8 is
// declared when offered, and otherwise the message goes as it is (as
// Postfix sends it), since the server may well take it.
bool wants_smtputf8(const Submission& s);
// has_8bit: some octet of content is >= 0x80 (BODY=8BITMIME, RFC 6152).
bool has_8bit(std::string_view content);

SubmitResult submit_message(const HostPort& server, const Submission& s, const SubmitOptions& options);

}  // namespace ringmta::sendmail

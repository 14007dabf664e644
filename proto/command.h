// proto/command.h — one SMTP command line into a verb and its arguments.
//
// The line comes without its line ending; nothing is copied (results are
// views into the line). Usage:
//
//   Command c = parse_command("MAIL FROM:<a@b.example> SIZE=100");
//   MailArgs m;
//   if (c.verb == Verb::kMail && parse_mail_args(c.arg, &m) == ArgStatus::kOk) {
//     ...m.sender, m.size...
//   }
#pragma once

#include <cstdint>
#include <string_view>

#include "proto/address.h"
#include "proto/envelope.h"

namespace ringmta::proto {

enum class Verb : uint8_t {
  kUnknown,
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kStartTls,
  kAuth,
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view arg;  // after the verb and its space, trailing blanks trimmed
};

// parse_command recognizes the verb (case-insensitive). A verb glued to
// other text ("DATAX") is kUnknown.
Command parse_command(std::string_view line);

// ArgStatus is why an argument was refused; the session maps it to a reply.
enum class ArgStatus : uint8_t {
  kOk,
  kSyntax,         // 501 5.5.4
  kBadAddress,     // 501 5.1.7 (sender) / 501 5.1.3 (recipient)
  kNeedsSmtpUtf8,  // 553 5.6.7 (RFC 6531 3.5)
  kUnknownParam,   // 555 5.5.4
  kBadParamValue,  // 501 5.5.4
};

struct MailArgs {
  Address sender;
  uint64_t size = 0;  // SIZE=, 0 when absent
  BodyType body = BodyType::kUnspecified;
  bool smtputf8 = false;
  bool has_auth = false;  // AUTH= was given (and ignored)
  std::string_view bad_param;  // the refused parameter, for the reply text
};

// parse_mail_args parses what follows "MAIL": "FROM:<path> [params]".
// With accept_auth (the session offers AUTH), RFC 4954 5's AUTH=<mailbox>
// parameter is accepted and ignored: we never relay the claim of another
// submitter, and the Received: header names the user who authenticated.
// Without it AUTH= is an unknown parameter, as it was before AUTH existed.
ArgStatus parse_mail_args(std::string_view arg, MailArgs* out, bool accept_auth = false);

struct RcptArgs {
  Address recipient;
  std::string_view bad_param;
};

// parse_rcpt_args parses what follows "RCPT": "TO:<path> [params]".
// long_local: local parts past 64 octets are accepted (PathOptions); the
// session allows them only for its VERP domains.
ArgStatus parse_rcpt_args(std::string_view arg, bool smtputf8, RcptArgs* out, bool long_local = false);

struct BdatArgs {
  uint64_t size = 0;
  bool last = false;
};

// parse_bdat_args parses "chunk-size [LAST]" (RFC 3030).
bool parse_bdat_args(std::string_view arg, BdatArgs* out);

// parse_decimal parses 1..19 digits with nothing else; false otherwise.
bool parse_decimal(std::string_view text, uint64_t* out);

}  // namespace ringmta::proto

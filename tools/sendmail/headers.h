// tools/sendmail/headers.h — what sendmail does to a message's header
// section before it is submitted: adds From:, Date: and Message-ID: when
// they are missing, takes the recipients out of To:/Cc:/Bcc: for -t, and
// removes Bcc: (the one header a recipient must not see).
//
//   HeaderFix fix{.from_address = "alice@host.test", .full_name = "Alice",
//                 .now = absl::Now(), .hostname = "host.test", .extract_recipients = true};
//   absl::StatusOr<FixedMessage> m = fix_headers(content, fix);
//   m->content, m->header_recipients
//
// `content` is what MessageReader made (CRLF lines). If it does not start
// with a header field, all of it is the body; a header section that runs
// into a line which is not a field (no empty line) ends there, and an empty
// line is put in, so the added fields can never be read as body.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ringmta::sendmail {

// Bounds on the header section (distrust input; like Postfix's
// header_size_limit, 102400 octets per field). Past them the message is
// refused (EX_DATAERR) rather than silently cut.
inline constexpr size_t kMaxHeaderField = 102400;  // octets of one field, folded lines included
inline constexpr size_t kMaxHeaderFields = 2000;
inline constexpr size_t kMaxHeaderRecipients = 100000;  // spool::kMaxMaildropRecipients

struct HeaderFix {
  std::string from_address;  // for an added From: (the envelope sender, else user@host)
  std::string full_name;     // its display name ("" for none)
  absl::Time now;            // for an added Date:
  std::string hostname;      // the right side of an added Message-ID:
  bool extract_recipients = false;  // -t
};

struct FixedMessage {
  std::string content;
  std::vector<std::string> header_recipients;  // with -t: To:, Cc:, Bcc: in order
  bool added_from = false, added_date = false, added_message_id = false, removed_bcc = false;
};

// fix_headers applies HeaderFix to content. InvalidArgument past a bound
// above, naming it.
absl::StatusOr<FixedMessage> fix_headers(std::string_view content, const HeaderFix& fix);

// from_field: "From: Name <addr>\r\n" with the name quoted (RFC 5322
// phrase) or RFC 2047-encoded when it is not ASCII; "From: addr\r\n"
// without a name.
std::string from_field(std::string_view address, std::string_view full_name);

// message_id_field: "Message-ID: <unique@hostname>\r\n".
std::string message_id_field(absl::Time now, std::string_view hostname);

}  // namespace ringmta::sendmail

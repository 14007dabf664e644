// tools/postfix/postfix_queue_file.h — reads a Postfix queue file (what
// cleanup writes into incoming/ and qmgr moves through active/, deferred/,
// hold/) into an envelope and content, for `ringmta-ctl
// import-postfix-queue`. Pure: bytes in, a message or an error out.
//
//   absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(bytes, "4QbC1x2yZz");
//   if (m.ok()) write_maildrop(dir, {m->sender, m->recipients, m->arrival_us, ...}, m->content);
//
// The format (Postfix's global/rec_type.h and global/record.c): a run of
// records, each a type octet, a length as a base-128 varint (low 7 bits
// first, the high bit set on every octet but the last) and that many data
// octets. Three segments:
//   envelope   C (sizes), T (arrival "sec usec"), S (sender, empty: <>),
//              O (original recipient), R (recipient still to deliver),
//              D (delivered), / (cancelled), A (name=value attributes), ...
//              then M (its data: the X record's offset, or empty in Postfix 3);
//   content    N (a line) and L (a piece of a longer line, no newline),
//              w (padding, skipped), up to X;
//   extracted  X, then more recipients (sendmail -t) and attributes, E.
// p records are pointers ("%15ld" offset; 0 means none) that cleanup and
// milters use to splice records in; reading follows them, as Postfix does.
//
// Bounds: every length is checked against what is left of the file; a
// varint has at most 5 octets; the reader visits at most one record per
// 2 octets of the file (a valid file visits each record once), so pointer
// loops end with an error, and so does visiting more data octets than the
// file holds (a loop over a large record); so the content and recipients
// are never larger than the file. At most kMaxPostfixRecipients recipients.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::postfix {

inline constexpr size_t kMaxPostfixQueueFile = size_t{1} << 31;  // octets
inline constexpr size_t kMaxPostfixRecipients = 100000;

struct PostfixMessage {
  std::string queue_id;
  std::string sender;                   // "" is the null sender <>
  std::vector<std::string> recipients;  // not yet delivered (R records)
  size_t done_recipients = 0;           // D and / records: skipped
  int64_t arrival_us = 0;               // unix microseconds, from T
  std::string content;                  // CRLF lines, not dot-stuffed
};

// parse_postfix_queue_file: the message in a queue file's bytes; queue_id
// (the file's name) is copied into the result. InvalidArgument naming the
// offset for a malformed or truncated file (no E record: cleanup had not
// finished it).
absl::StatusOr<PostfixMessage> parse_postfix_queue_file(std::string_view bytes, std::string_view queue_id);

}  // namespace ringmta::postfix

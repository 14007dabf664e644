// spool/maildrop.h — the maildrop: messages handed to ringmta as files, for
// the engine's pickup to inject (engine/store/pickup.h). ringmta-sendmail
// writes one when the server is down; ringmta-ctl import-postfix-queue
// writes one per imported Postfix queue file. Like Postfix's maildrop and
// pickup, but one format for both writers.
//
//   MaildropEnvelope env{.sender = "app@example.com", .recipients = {"a@example.net"}};
//   absl::StatusOr<std::string> name = write_maildrop("/var/spool/ringmta/maildrop", env, content);
//   ...
//   absl::StatusOr<MaildropMessage> m = parse_maildrop(file_bytes);  // the pickup
//
// A file is a header of "key value" lines, an empty line, then the content
// exactly as it will be stored (CRLF lines, not dot-stuffed):
//
//   ringmta-maildrop 1
//   sender app@example.com          ("sender" alone: the null sender <>)
//   rcpt a@example.net              (one line per recipient, at least one)
//   arrival 1764848123000000        (unix microseconds; optional: pickup time)
//   origin sendmail uid=33          (optional, free text for the logs)
//   <empty line>
//   From: ...\r\n...
//
// Writing is atomic and durable: the file is written under a name starting
// with "." (which the pickup never reads), fsynced, renamed to its final
// name and the directory fsynced, so a file the pickup sees is whole and a
// writer that returned success has its message on stable storage. Names are
// "<unix-us>.<pid>.<random>", so they sort by time and never collide.
//
// Bounds (a maildrop directory may be writable by every local user, so the
// pickup checks what it reads): header at most kMaxMaildropHeader octets,
// at most kMaxMaildropRecipients recipients, addresses at most 512 octets
// and without controls or spaces; the content's size is the engine's
// message size limit to enforce.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::spool {

inline constexpr size_t kMaxMaildropHeader = 4 << 20;  // octets
inline constexpr size_t kMaxMaildropRecipients = 100000;
inline constexpr size_t kMaxMaildropAddress = 512;

struct MaildropEnvelope {
  std::string sender;                   // "" is the null sender <>
  std::vector<std::string> recipients;  // "local@domain", at least one
  int64_t arrival_us = 0;               // unix microseconds; 0: the pickup's time
  std::string origin;                   // for the logs ("sendmail uid=33", "postfix 4AbC"); no CR/LF
};

struct MaildropMessage {
  MaildropEnvelope envelope;
  std::string_view content;  // a view into the parsed file
};

// maildrop_file: the file's bytes. InvalidArgument for an envelope the
// pickup would refuse (no recipient, an address with a space or control
// character, too long, CR/LF in origin).
absl::StatusOr<std::string> maildrop_file(const MaildropEnvelope& envelope,
                                          std::string_view content);

// parse_maildrop: the envelope and content of a file's bytes;
// InvalidArgument naming the line for anything malformed.
absl::StatusOr<MaildropMessage> parse_maildrop(std::string_view file);

// write_maildrop: writes the file into dir atomically and durably (above);
// returns its name. The file's mode is 0644 (the pickup may run as another
// user than the writer). Errors name the path and errno.
absl::StatusOr<std::string> write_maildrop(const std::string& dir,
                                           const MaildropEnvelope& envelope,
                                           std::string_view content);

// is_maildrop_name: a finished file's name (not a "." temporary one).
bool is_maildrop_name(std::string_view name);

}  // namespace ringmta::spool

// tools/sendmail/smtp_connection.h — one blocking TCP connection to the
// SMTP server, with deadlines: a command-line tool may block, and a
// deadline on every read and write means it never hangs for ever.
//
//   absl::StatusOr<SmtpConnection> c = SmtpConnection::open({"127.0.0.1", 2525}, 30);
//   c->write("EHLO host\r\n");
//   absl::StatusOr<proto::Reply> r = c->read_reply(300);   // r->code, c->reply_lines()
//
// Every failure is absl::UnavailableError naming what failed (connect,
// read, a reply that is not SMTP): the caller treats them all as "try
// again later".
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/reply_parser.h"
#include "tools/sendmail/server_config.h"

namespace ringmta::sendmail {

class SmtpConnection {
 public:
  // open resolves host (numeric or a name: this is not a shard, so
  // getaddrinfo may block) and connects to the first address that answers.
  static absl::StatusOr<SmtpConnection> open(const HostPort& server, int timeout_s);

  SmtpConnection(SmtpConnection&& o) noexcept;
  SmtpConnection& operator=(SmtpConnection&&) = delete;
  ~SmtpConnection();

  // write sends all of bytes (bounded by the timeout given to open).
  absl::Status write(std::string_view bytes);
  // read_reply waits up to timeout_s for one complete reply.
  absl::StatusOr<proto::Reply> read_reply(int timeout_s);
  // reply_lines: each line's text of the last reply (EHLO keywords).
  std::string_view reply_lines() const { return _parser.lines(); }

  int fd() const { return _fd; }
  // verbose: log "-> command" / "<- reply" to stderr (-v).
  void set_verbose(bool v) { _verbose = v; }

 private:
  SmtpConnection(int fd, int timeout_s) : _fd(fd), _timeout_s(timeout_s) {}
  absl::Status wait_for(short events, int timeout_s, std::string_view what);

  int _fd = -1;
  int _timeout_s = 30;
  bool _verbose = false;
  proto::ReplyParser _parser;
  std::string _in;  // read but not yet parsed
};

}  // namespace ringmta::sendmail

// proto/session_impl.h — ServerSession's private state, shared by
// server_session.cc (byte handling, message end) and session_commands.cc
// (one handler per verb). Not for use outside proto/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/command.h"
#include "proto/data_decoder.h"
#include "proto/server_session.h"

namespace ringmta::proto {

struct ServerSession::Impl {
  enum class Phase : uint8_t { kCommand, kData, kBdatChunk };
  enum class Greeting : uint8_t { kNone, kHelo, kEhlo };
  // Where an AUTH exchange stands: which client line comes next.
  enum class AuthStep : uint8_t { kNone, kPlain, kLoginUser, kLoginPassword };

  Impl(const SessionConfig& config, ClientInfo client);

  // server_session.cc
  size_t consume(std::string_view in);
  size_t consume_command_bytes(std::string_view in);
  size_t consume_chunk_bytes(std::string_view in);
  void finish_chunk();
  void finish_message();
  void start_message(BodyDecoder::Mode mode);
  void reset_transaction();
  void reply(std::string_view line);
  void reply_host(std::string_view code, std::string_view text);
  void error(std::string_view line);  // reply and count toward max_errors
  void close_with(std::string_view code, std::string_view text);
  // line_limit is the longest line accepted now (CRLF included): longer
  // while an AUTH line may come (RFC 4954 4), else max_command_line.
  size_t line_limit() const;
  void line_too_long();

  // session_commands.cc
  void execute(std::string_view line);
  void do_helo(const Command& c, Greeting kind);
  void do_mail(const Command& c);
  void do_rcpt(const Command& c);
  void do_data(const Command& c);
  void do_bdat(const Command& c);
  void reply_bad_param(ArgStatus status, std::string_view param);
  bool refuse_args(ArgStatus status, std::string_view syntax, std::string_view bad_address,
                   std::string_view bad_param);
  // sequence_error returns the 503 text for MAIL-dependent commands, or ""
  // when the transaction is ready for `verb`.
  std::string_view sequence_error(Verb verb) const;
  void append_ehlo();

  // session_tls_auth.cc
  bool auth_offered() const;  // AUTH would be advertised now
  // only_feedback_recipients: every recipient of the message is at a
  // feedback domain (SessionConfig::feedback_domains).
  bool only_feedback_recipients() const;
  void do_starttls(const Command& c);
  void do_auth(const Command& c);
  void auth_response(std::string_view line);  // a line during an exchange
  void request_auth(std::string_view mechanism, std::string user, std::string password);
  void reset_after_tls();

  const SessionConfig& _config;
  ClientInfo _client;
  std::string _out;
  // A command line split across reads; never longer than max_command_line.
  std::string _line;
  bool _discarding = false;  // skipping the rest of an over-long line
  Phase _phase = Phase::kCommand;
  Greeting _greeting = Greeting::kNone;
  std::string _helo;
  int _errors = 0;
  uint64_t _commands = 0;  // command lines and SASL responses handled
  size_t _junk = 0;        // commands since the last accepted message
  bool _closing = false;
  bool _waiting = false;  // a finished message awaits on_stored()
  bool _ready = false;    // ... and has not been taken yet

  // The transaction.
  bool _has_mail = false;
  bool _message_started = false;  // 354 sent or first BDAT accepted
  bool _bdat = false;             // the message is being sent with BDAT
  std::string _queue_id;
  std::vector<size_t> _rcpt_hashes;  // parallel to envelope.recipients
  CompletedMessage _msg;
  BodyDecoder _decoder;

  // The BDAT chunk being read.
  uint64_t _chunk_left = 0;
  uint64_t _chunk_size = 0;
  bool _chunk_last = false;
  // When not empty, the chunk is skipped and this error answers it.
  std::string_view _chunk_error;

  // TLS (RFC 3207).
  bool _tls = false;        // encrypted: after STARTTLS, or implicit TLS
  bool _wants_tls = false;  // 220 sent to STARTTLS; input is dropped
  std::string _tls_version;
  std::string _tls_cipher;

  // AUTH (RFC 4954).
  AuthStep _auth_step = AuthStep::kNone;
  bool _auth_ready = false;    // _auth_request not yet taken
  bool _auth_waiting = false;  // ... or taken and not yet answered
  AuthRequest _auth_request;
  std::string _auth_candidate;  // user of the outstanding request
  std::string _login_user;      // LOGIN: the user, while asking the password
  std::string _auth_user;       // "" until a successful AUTH
};

}  // namespace ringmta::proto

// bench/smtpblast_options.h — smtpblast's command line: one Options value
// for both modes, parsed once at start; `--help` prints every flag with its
// default (options_help()).
//
//   absl::StatusOr<Options> o = parse_options(argc, argv);
//   if (o->help) { fputs(options_help().c_str(), stdout); }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::blast {

// ReplyWeight is one entry of --reply-mix: `code` answers `weight` parts of
// the ends of data.
struct ReplyWeight {
  int code = 250;
  uint32_t weight = 0;
};

// CommandDelay is one entry of --delay: hold the reply to `verb` (upper
// case; "DATA" means the end-of-data reply, "CONNECT" the greeting).
struct CommandDelay {
  std::string verb;
  uint32_t ms = 0;
};

struct Options {
  bool help = false;
  bool sink = false;
  std::string json_path;  // --json: write the summary there too
  uint64_t seed = 1;
  bool quiet = false;     // no progress line

  // Client.
  std::string server;
  uint32_t connections = 20;
  uint64_t messages = 0;   // 0: not given (10000 unless --duration)
  double duration_s = 0;   // 0: run by message count
  uint32_t size = 1024;    // octets of content, headers included
  uint32_t recipients = 1;
  uint32_t domains = 1;     // > 1: message i goes to the domain d<i % domains>.<domain of --to>
  bool pipelining = false;
  bool no_reuse = false;
  double rate = 0;         // messages/s, 0: closed loop
  std::string from = "blast@smtpblast.test";
  std::string to = "sink@example.test";
  std::string helo = "smtpblast.test";
  double timeout_s = 0;    // 0: 60 s + N/1000 s (or + duration)
  // --tls: STARTTLS (RFC 3207) after EHLO on every connection, required:
  // a server that does not offer it fails the run.
  bool tls = false;
  std::string tls_ciphers;  // "": engine/tls/tls_context.h's kDefaultTlsCiphers
  std::string tls_version;  // "1.2" or "1.3" only; "": either, 1.3 preferred

  // Sink.
  std::string listen;
  uint64_t expect = 0;     // 0: run until SIGINT/SIGTERM
  std::vector<ReplyWeight> reply_mix;  // empty: always 250
  double disconnect_rate = 0;
  std::vector<CommandDelay> delays;
  std::string hostname = "sink.smtpblast.test";
  // Both set: offer and accept STARTTLS with this PEM certificate and key.
  std::string tls_cert;
  std::string tls_key;
};

// parse_options reads argv; an error names the flag and what is wrong.
absl::StatusOr<Options> parse_options(int argc, char** argv);

// options_help is the --help text.
std::string options_help();

}  // namespace ringmta::blast

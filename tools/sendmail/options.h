// tools/sendmail/options.h — ringmta-sendmail's command line, read the way
// Postfix's sendmail(1) reads it, so that programs written for /usr/sbin/sendmail
// (PHP's mail(), cron, mailx, mutt) work unchanged.
//
//   Options o = parse_options(argc, argv);
//   if (!o.error.empty()) { usage(o.error); return EX_USAGE; }
//   for (const std::string& w : o.warnings) warn(w);   // ignored flags
//
// Pure: no I/O, so tests/tools/sendmail/options_test.cc covers every flag.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::sendmail {

enum class Mode {
  kSend,        // default (-bm): a message on stdin to the recipients
  kSmtpStdio,   // -bs: an SMTP session on stdin/stdout, relayed to the server
  kListQueue,   // -bp, or called as mailq: `ringmta-ctl queue`
  kFlushQueue,  // -q: `ringmta-ctl flush`
  kNewAliases,  // -bi, or called as newaliases: nothing to do (no aliases here)
  kVersion,     // -V alone, or --version
  kHelp,        // --help
};

struct Options {
  Mode mode = Mode::kSend;
  std::vector<std::string> recipients;  // the arguments after the flags
  std::optional<std::string> sender;    // -f / -r; "" or "<>" is the null sender
  std::optional<std::string> full_name; // -F, for the From: that is added
  std::optional<std::string> config;    // -C FILE: the TOML file to read
  bool extract_recipients = false;      // -t
  bool ignore_dots = false;             // -i, -oi: a lone "." is a line like any other
  bool verbose = false;                 // -v: the SMTP dialogue on stderr
  std::vector<std::string> warnings;    // flags accepted and ignored with a word
  std::string error;                    // a usage error ("" when none)
};

// parse_options reads argv like Postfix's sendmail: flags (a value joined,
// "-fme", or separate, "-f me") and recipients in any order; after "--"
// everything is a recipient.
// argv[0]'s base name "mailq" means -bp, "newaliases" -bi.
Options parse_options(int argc, const char* const* argv);

// usage_text: the one-screen summary printed for --help and usage errors.
std::string_view usage_text();

}  // namespace ringmta::sendmail

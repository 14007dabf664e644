// tools/sendmail/main.cc — ringmta-sendmail, the sendmail(1) command for
// ringmta: reads a message on stdin and submits it over SMTP to the local
// ringmta; when the server cannot take it now, keeps it in the maildrop for
// the engine's pickup (spool/maildrop.h), as Postfix's postdrop would.
//
// Exit status (sysexits.h, what callers of sendmail test): EX_OK sent or
// kept; EX_USAGE bad flags or no recipient; EX_DATAERR refused for good
// (5xx, too large, bad headers); EX_TEMPFAIL not sent and not kept either.
#include <pwd.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"
#include "spool/maildrop.h"
#include "tools/sendmail/address_list.h"
#include "tools/sendmail/headers.h"
#include "tools/sendmail/message_reader.h"
#include "tools/sendmail/options.h"
#include "tools/sendmail/queue_commands.h"
#include "tools/sendmail/server_config.h"
#include "tools/sendmail/stdio_relay.h"
#include "tools/sendmail/submit.h"

namespace ringmta::sendmail {
namespace {

void say(const std::string& text) { std::fprintf(stderr, "ringmta-sendmail: %s\n", text.c_str()); }

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// The calling user: login name and the full name from the password file's
// GECOS field (up to its first comma, as Postfix does).
struct Caller {
  std::string login;
  std::string gecos_name;
};

Caller calling_user() {
  Caller c;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) {
    c.login = pw->pw_name;
    std::string g = pw->pw_gecos ? pw->pw_gecos : "";
    c.gecos_name = g.substr(0, g.find(','));
  } else if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') {
    c.login = u;
  } else {
    c.login = absl::StrCat("uid", ::getuid());
  }
  return c;
}

// A bare local name ("root") gets our host name, like Postfix's
// append_at_myorigin: the server needs a domain.
std::string qualify(std::string a, const std::string& host) {
  if (!a.empty() && a.find('@') == std::string::npos) absl::StrAppend(&a, "@", host);
  return a;
}

// usable_address: what both the SMTP command and a maildrop file can carry
// (spool/maildrop.h's rule): no space or control character, bounded.
bool usable_address(const std::string& a) {
  if (a.size() > spool::kMaxMaildropAddress) return false;
  for (unsigned char c : a) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

int keep_in_maildrop(const SubmitSettings& settings, const Submission& s, const std::string& why) {
  if (settings.maildrop.empty()) {
    say(absl::StrCat(why, "; there is no maildrop to keep it in (submit.maildrop = \"\" in ",
                     settings.config_path, "): not sent, try again"));
    return EX_TEMPFAIL;
  }
  spool::MaildropEnvelope env;
  env.sender = s.sender;
  env.recipients = s.recipients;
  env.arrival_us = absl::ToUnixMicros(absl::Now());
  env.origin = absl::StrCat("sendmail uid=", ::getuid());
  absl::StatusOr<std::string> name = spool::write_maildrop(settings.maildrop, env, s.content);
  if (!name.ok()) {
    say(absl::StrCat(why, "; the message could not be kept in ", settings.maildrop, " either (",
                     name.status().message(), "): not sent, try again"));
    return EX_TEMPFAIL;
  }
  say(absl::StrCat(why, "; message kept in ", settings.maildrop, "/", *name, " for the pickup"));
  return EX_OK;
}

int send_message(const Options& o, const SubmitSettings& settings) {
  const std::string host = host_name();
  const Caller caller = calling_user();

  // The server's own limit, when its config says, also binds what goes to the maildrop.
  const size_t max_size = settings.max_message_size != 0 && settings.max_message_size < kMaxMessage
                              ? static_cast<size_t>(settings.max_message_size)
                              : kMaxMessage;
  MessageReader reader({.ignore_dots = o.ignore_dots, .max_size = max_size});
  char buf[65536];
  while (!reader.done()) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      say(absl::StrCat("reading the message from stdin: ", std::strerror(errno)));
      return EX_IOERR;
    }
    if (n == 0) break;
    if (absl::Status st = reader.feed(std::string_view(buf, static_cast<size_t>(n))); !st.ok()) {
      say(absl::StrCat("refused: ", st.message()));
      return EX_DATAERR;
    }
  }
  reader.finish();

  Submission s;
  s.sender = o.sender ? qualify(*o.sender, host) : absl::StrCat(caller.login, "@", host);
  HeaderFix fix{.from_address = s.sender.empty() ? absl::StrCat(caller.login, "@", host) : s.sender,
                .full_name = o.full_name ? *o.full_name : caller.gecos_name,
                .now = absl::Now(),
                .hostname = host,
                .extract_recipients = o.extract_recipients};
  absl::StatusOr<FixedMessage> m = fix_headers(reader.take(), fix);
  if (!m.ok()) {
    say(absl::StrCat("refused: ", m.status().message()));
    return EX_DATAERR;
  }
  if (m->content.size() > max_size) {
    say(absl::StrCat("refused: the message is larger than ", max_size, " octets"));
    return EX_DATAERR;
  }
  // Each argument is an address list ("a@x, b@y" is two), as Postfix reads them.
  std::set<std::string> seen;
  std::string bad;
  auto add = [&](const std::string& a) {
    std::string q = qualify(a, host);
    if (!usable_address(q)) {
      if (bad.empty()) bad = q.substr(0, 100);
      return;
    }
    if (seen.insert(q).second) s.recipients.push_back(std::move(q));
  };
  for (const std::string& arg : o.recipients) {
    for (const std::string& a : parse_address_list(arg)) add(a);
  }
  if (!bad.empty() || !usable_address(s.sender)) {
    say(absl::StrCat("bad address \"", bad.empty() ? s.sender.substr(0, 100) : bad,
                     "\": a space, a control character, or too long"));
    return EX_USAGE;
  }
  for (const std::string& a : m->header_recipients) add(a);
  if (!bad.empty()) {
    say(absl::StrCat("refused: bad address \"", bad, "\" in To:, Cc: or Bcc:"));
    return EX_DATAERR;
  }
  if (s.recipients.empty()) {
    say(o.extract_recipients ? "no recipients: none in To:, Cc: or Bcc: and none given" : "no recipients given");
    return EX_USAGE;
  }
  s.content = std::move(m->content);

  SubmitResult r = submit_message(settings.server, s, {.helo = host, .verbose = o.verbose});
  switch (r.outcome) {
    case Outcome::kSent:
      if (o.verbose) say(absl::StrCat("sent: ", r.detail));
      return EX_OK;
    case Outcome::kRefused:
      say(absl::StrCat("server ", settings.server_text, " refused the message: ", r.detail));
      return EX_DATAERR;
    case Outcome::kUnreachable:
      return keep_in_maildrop(settings, s,
                              absl::StrCat("server ", settings.server_text, " unreachable (", r.detail, ")"));
    case Outcome::kTryLater:
      return keep_in_maildrop(settings, s,
                              absl::StrCat("server ", settings.server_text, " deferred the message (", r.detail, ")"));
  }
  return EX_SOFTWARE;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed socket or stdout is an error to report, not a death
  Options o = parse_options(argc, argv);
  for (const std::string& w : o.warnings) say(absl::StrCat("warning: ", w));
  if (!o.error.empty()) {
    say(o.error);
    std::fprintf(stderr, "%.*s", static_cast<int>(usage_text().size()), usage_text().data());
    return EX_USAGE;
  }
  switch (o.mode) {
    case Mode::kVersion:
      std::printf("ringmta-sendmail %s\n", RINGMTA_VERSION);
      return EX_OK;
    case Mode::kHelp:
      std::printf("%.*s", static_cast<int>(usage_text().size()), usage_text().data());
      return EX_OK;
    case Mode::kNewAliases:
      say("ringmta has no aliases database: nothing to rebuild");
      return EX_OK;
    case Mode::kListQueue:
    case Mode::kFlushQueue:
    case Mode::kSmtpStdio:
    case Mode::kSend:
      break;
  }
  SubmitSettings settings = load_submit_settings([](const char* k) { return std::getenv(k); },
                                                 o.config.value_or(""));
  for (const std::string& w : settings.warnings) say(absl::StrCat("warning: ", w));
  if (o.mode == Mode::kListQueue) return run_ctl("queue", settings.admin_url);
  if (o.mode == Mode::kFlushQueue) return run_ctl("flush", settings.admin_url);
  if (o.mode == Mode::kSmtpStdio) return relay_stdio(settings.server, settings.server_text);
  return send_message(o, settings);
}

}  // namespace ringmta::sendmail

int main(int argc, char** argv) { return ringmta::sendmail::main(argc, argv); }

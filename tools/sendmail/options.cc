// tools/sendmail/options.cc — sendmail(1) flags (options.h). The list and
// the meaning of each follow Postfix's sendmail(1) man page; flags that
// only matter to Sendmail's or Postfix's own queue are accepted and
// ignored, because callers pass them by habit (-oem, -odb, -N never).
#include "tools/sendmail/options.h"

#include <cstring>

namespace ringmta::sendmail {
namespace {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Flags that take a value (joined or as the next argument).
bool takes_value(char c) { return std::strchr("BCFfhLNORrX", c) != nullptr; }

// An envelope address as given: "<a@b>" and "a@b" are the same; "<>" and "" the null sender.
std::string bare_address(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return std::string(a);
}

}  // namespace

std::string_view usage_text() {
  return "Usage: ringmta-sendmail [flags] [recipient ...] < message\n"
         "  -t          recipients also from the To:, Cc: and Bcc: headers (Bcc: is removed)\n"
         "  -f SENDER   envelope sender (-r SENDER the same; \"<>\" the null sender)\n"
         "  -F NAME     full name for the From: header added when there is none\n"
         "  -i, -oi     a line with a lone \".\" does not end the message\n"
         "  -bs         an SMTP session on stdin/stdout, relayed to the server\n"
         "  -bp         list the queue (ringmta-ctl queue); also when called as mailq\n"
         "  -q          retry deferred mail now (ringmta-ctl flush)\n"
         "  -v          show the SMTP dialogue on stderr\n"
         "  -C FILE     the TOML config file (default $RINGMTA_CONFIG or /etc/ringmta/ringmta.toml)\n"
         "  -V, --version  the version\n"
         "Accepted and ignored: -bm -B TYPE -h N -L LABEL -N DSN -O OPT -R RET -U -X FILE -oX...\n"
         "Server: $RINGMTA_SERVER, else submit.server in the config, else 127.0.0.1:2525.\n"
         "Exit status: 0 sent (or kept for the pickup), 64 usage, 65 refused (5xx), 75 try again.\n";
}

Options parse_options(int argc, const char* const* argv) {
  Options o;
  std::string_view prog = argc > 0 ? base_name(argv[0]) : "";
  if (prog == "mailq") o.mode = Mode::kListQueue;
  if (prog == "newaliases") o.mode = Mode::kNewAliases;
  int i = 1;
  bool saw_v_flag = false;  // -V: VERP for Postfix; alone, the version (below)
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--version") {
      o.mode = Mode::kVersion;
      continue;
    }
    if (a == "--help") {
      o.mode = Mode::kHelp;
      continue;
    }
    if (a.size() < 2 || a[0] != '-') {
      // A recipient. Flags may still follow (GNU getopt's order, which
      // Postfix's sendmail gets on Linux): "sendmail a@b -f me".
      o.recipients.emplace_back(a);
      continue;
    }
    // A cluster such as "-ti" or "-oi": walk its letters.
    for (size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      std::string_view rest = a.substr(k + 1);
      if (c == 'b' || c == 'o' || c == 'q') {
        // These take the rest of the cluster as their argument: -bs, -oi, -q30m.
        if (c == 'b') {
          if (rest == "s") {
            o.mode = Mode::kSmtpStdio;
          } else if (rest == "p") {
            o.mode = Mode::kListQueue;
          } else if (rest == "i") {
            o.mode = Mode::kNewAliases;
          } else if (rest == "m" || rest.empty()) {
            o.mode = Mode::kSend;
          } else {
            o.warnings.push_back(std::string("-b") + std::string(rest) +
                                 " is not supported here: mode ignored, the message is sent");
          }
        } else if (c == 'o') {
          if (rest == "i") {
            o.ignore_dots = true;
          } else if (rest.empty()) {
            o.error = "-o needs an option letter (-oi, -oem, ...)";
          }
          // -oem, -odb, -odi, -oA..., -oX: Sendmail queue options; nothing to do.
        } else {
          // -q, -qInterval, -qR..., -qS...: one flush now is what a caller wants.
          o.mode = Mode::kFlushQueue;
        }
        break;
      }
      if (c == 'V') {
        // Postfix's -V (VERP, obsolete) takes its delimiters joined ("-V+="),
        // so the rest of the cluster is its, and nothing after it.
        saw_v_flag = true;
        break;
      }
      if (takes_value(c)) {
        std::string value;
        if (!rest.empty()) {
          value = std::string(rest);
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          o.error = std::string("-") + c + " needs a value";
          return o;
        }
        switch (c) {
          case 'f':
          case 'r':
            o.sender = bare_address(value);
            break;
          case 'F':
            o.full_name = value;
            break;
          case 'C':
            o.config = value;
            break;
          default:
            break;  // -B, -h, -L, -N, -O, -R, -X: accepted (the queue's business)
        }
        break;  // the value used the rest of the cluster
      }
      switch (c) {
        case 't':
          o.extract_recipients = true;
          break;
        case 'i':
          o.ignore_dots = true;
          break;
        case 'v':
          o.verbose = true;
          break;
        case 'm':  // "me too": Sendmail's old alias flag
        case 'n':  // no aliasing
        case 'U':  // initial user submission
        case 'e':  // old Sendmail error mode
          break;
        case 'd':  // Sendmail's debugging levels, "-d0.1": the rest of the cluster is its value
          k = a.size();
          break;
        default:
          o.warnings.push_back(std::string("-") + c + " option ignored");
          break;
      }
    }
  }
  for (; i < argc; ++i) o.recipients.emplace_back(argv[i]);
  if (saw_v_flag && o.recipients.empty() && !o.extract_recipients && o.mode == Mode::kSend) {
    o.mode = Mode::kVersion;  // "-V" alone: there is nothing to send, so say who we are
  }
  if (o.mode == Mode::kSend && o.recipients.empty() && !o.extract_recipients) {
    o.error = "no recipients given (name them, or use -t to read them from the headers)";
  }
  return o;
}

}  // namespace ringmta::sendmail

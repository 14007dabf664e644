// bench/smtpblast_options.cc — the flag table, parsing and --help. Every
// flag is one row, so the help text and the parser cannot disagree.
#include "bench/smtpblast_options.h"

#include <cstdlib>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::blast {
namespace {

bool to_u64(std::string_view s, uint64_t* out) { return absl::SimpleAtoi(av(s), out); }

bool to_u32(std::string_view s, uint32_t* out) { return absl::SimpleAtoi(av(s), out); }

bool to_double(std::string_view s, double* out) {
  return absl::SimpleAtod(av(s), out) && *out >= 0;
}

// parse_mix reads "250:95,451:3,550:2".
bool parse_mix(Options& o, std::string_view s) {
  o.reply_mix.clear();
  for (absl::string_view part : absl::StrSplit(av(s), ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, ':');
    ReplyWeight w;
    if (!absl::SimpleAtoi(kv.first, &w.code) || w.code < 200 || w.code > 599 ||
        !absl::SimpleAtoi(kv.second, &w.weight)) {
      return false;
    }
    o.reply_mix.push_back(w);
  }
  return !o.reply_mix.empty();
}

// parse_delays reads "data=5,mail=1".
bool parse_delays(Options& o, std::string_view s) {
  o.delays.clear();
  for (absl::string_view part : absl::StrSplit(av(s), ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    CommandDelay d;
    d.verb = absl::AsciiStrToUpper(kv.first);
    if (d.verb.empty() || !absl::SimpleAtoi(kv.second, &d.ms)) {
      return false;
    }
    o.delays.push_back(d);
  }
  return !o.delays.empty();
}

struct Flag {
  const char* name;
  const char* arg;  // nullptr: a switch without a value
  const char* def;
  const char* help;
  bool (*set)(Options&, std::string_view);
};

// clang-format off
const Flag kFlags[] = {
  {"help", nullptr, "", "print this help", [](Options& o, std::string_view) { o.help = true; return true; }},
  {"json", "FILE", "(none)", "also write the summary as JSON to FILE",
   [](Options& o, std::string_view v) { o.json_path = std::string(v); return true; }},
  {"seed", "N", "1", "seed of the deterministic PRNG (reply mix, disconnects)",
   [](Options& o, std::string_view v) { return to_u64(v, &o.seed); }},
  {"quiet", nullptr, "off", "no progress line",
   [](Options& o, std::string_view) { o.quiet = true; return true; }},
  // client
  {"server", "HOST:PORT", "(required)", "client: the SMTP server to load",
   [](Options& o, std::string_view v) { o.server = std::string(v); return true; }},
  {"connections", "C", "20", "client: concurrent connections",
   [](Options& o, std::string_view v) { return to_u32(v, &o.connections) && o.connections > 0; }},
  {"messages", "N", "10000", "client: messages to send (unless --duration)",
   [](Options& o, std::string_view v) { return to_u64(v, &o.messages) && o.messages > 0; }},
  {"duration", "S", "(none)", "client: send for S seconds instead of a count",
   [](Options& o, std::string_view v) { return to_double(v, &o.duration_s) && o.duration_s > 0; }},
  {"size", "BYTES", "1024", "client: message size, headers included",
   [](Options& o, std::string_view v) { return to_u32(v, &o.size); }},
  {"recipients", "R", "1", "client: recipients per message",
   [](Options& o, std::string_view v) { return to_u32(v, &o.recipients) && o.recipients > 0; }},
  {"pipelining", nullptr, "off", "client: pipeline MAIL, RCPT and DATA/BDAT when offered",
   [](Options& o, std::string_view) { o.pipelining = true; return true; }},
  {"no-reuse", nullptr, "off", "client: one message per connection (QUIT, reconnect)",
   [](Options& o, std::string_view) { o.no_reuse = true; return true; }},
  {"rate", "MSGS_PER_S", "(closed loop)", "client: open loop at this rate; latency from the scheduled time",
   [](Options& o, std::string_view v) { return to_double(v, &o.rate) && o.rate > 0; }},
  {"from", "ADDR", "blast@smtpblast.test", "client: envelope sender",
   [](Options& o, std::string_view v) { o.from = std::string(v); return true; }},
  {"domains", "D", "1", "client: spread messages over D recipient domains d0.DOMAIN ... (DOMAIN of --to)",
   [](Options& o, std::string_view v) { return to_u32(v, &o.domains) && o.domains > 0; }},
  {"to", "ADDR", "sink@example.test", "client: recipient (R > 1: local+1@domain, ...)",
   [](Options& o, std::string_view v) { o.to = std::string(v); return v.find('@') != v.npos; }},
  {"helo", "NAME", "smtpblast.test", "client: EHLO name",
   [](Options& o, std::string_view v) { o.helo = std::string(v); return true; }},
  {"tls", nullptr, "off", "client: STARTTLS after EHLO, then EHLO again; fail if the server does not offer it",
   [](Options& o, std::string_view) { o.tls = true; return true; }},
  {"tls-ciphers", "LIST", "ChaCha20 first, then AES-GCM", "client: TLS cipher list, ':'-separated (e.g. TLS13-AES128-GCM-SHA256)",
   [](Options& o, std::string_view v) { o.tls_ciphers = std::string(v); return !v.empty(); }},
  {"tls-version", "1.2|1.3", "either, 1.3 preferred", "client: TLS version, only this one (TLS 1.2 suites in --tls-ciphers need 1.2)",
   [](Options& o, std::string_view v) { o.tls_version = std::string(v); return v == "1.2" || v == "1.3"; }},
  {"timeout", "S", "60 + N/1000 (or + duration)", "stop and report after S seconds (sink: 0 = never)",
   [](Options& o, std::string_view v) { return to_double(v, &o.timeout_s); }},
  // sink
  {"sink", nullptr, "off", "run as a receiving SMTP server that discards bodies",
   [](Options& o, std::string_view) { o.sink = true; return true; }},
  {"listen", "HOST:PORT", "(required)", "sink: listen address (port 0: any, printed)",
   [](Options& o, std::string_view v) { o.listen = std::string(v); return true; }},
  {"expect", "N", "(run until a signal)", "sink: exit 0 once N messages were accepted",
   [](Options& o, std::string_view v) { return to_u64(v, &o.expect) && o.expect > 0; }},
  {"reply-mix", "CODE:W,...", "250:100", "sink: end-of-data replies by weight, e.g. 250:95,451:3,550:2",
   parse_mix},
  {"disconnect-rate", "F", "0", "sink: answer 421 and close after this fraction of messages",
   [](Options& o, std::string_view v) { return to_double(v, &o.disconnect_rate) && o.disconnect_rate <= 1; }},
  {"delay", "CMD=MS,...", "(none)", "sink: hold replies, e.g. data=5 (end of data), mail=1, connect=10",
   parse_delays},
  {"hostname", "NAME", "sink.smtpblast.test", "sink: name in the greeting and replies",
   [](Options& o, std::string_view v) { o.hostname = std::string(v); return true; }},
  {"tls-cert", "FILE", "(none: no STARTTLS)", "sink: PEM certificate chain (leaf first); offer and accept STARTTLS",
   [](Options& o, std::string_view v) { o.tls_cert = std::string(v); return !v.empty(); }},
  {"tls-key", "FILE", "(none)", "sink: PEM private key of --tls-cert",
   [](Options& o, std::string_view v) { o.tls_key = std::string(v); return !v.empty(); }},
};
// clang-format on

}  // namespace

absl::StatusOr<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", av(a), "' (see --help)"));
    }
    a.remove_prefix(2);
    std::string_view value;
    bool has_value = false;
    if (size_t eq = a.find('='); eq != a.npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : kFlags) {
      if (a == f.name) {
        flag = &f;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", av(a), " (see --help)"));
    }
    if (flag->arg != nullptr && !has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", flag->name, " needs ", flag->arg));
      }
      value = argv[++i];
    } else if (flag->arg == nullptr && has_value) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag->name, " takes no value"));
    }
    if (!flag->set(o, value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value '", av(value), "' for --", flag->name, " ", flag->arg));
    }
  }
  if (o.help) {
    return o;
  }
  if (o.sink && o.listen.empty()) {
    return absl::InvalidArgumentError("--sink needs --listen HOST:PORT");
  }
  if (!o.sink && o.server.empty()) {
    return absl::InvalidArgumentError("--server HOST:PORT is required (or --sink --listen ...)");
  }
  // The TLS flags of one side given to the other would be silently ignored:
  // a benchmark that quietly ran in plaintext is worse than an error.
  if (o.sink && (o.tls || !o.tls_ciphers.empty() || !o.tls_version.empty())) {
    return absl::InvalidArgumentError(
        "--tls, --tls-ciphers and --tls-version are client flags; the sink offers STARTTLS with --tls-cert "
        "and --tls-key");
  }
  if (!o.sink && (!o.tls_cert.empty() || !o.tls_key.empty())) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key are sink flags; the client uses --tls");
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both or neither");
  }
  if ((!o.tls_ciphers.empty() || !o.tls_version.empty()) && !o.tls) {
    return absl::InvalidArgumentError("--tls-ciphers and --tls-version need --tls");
  }
  if (!o.sink && o.messages == 0 && o.duration_s == 0) {
    o.messages = 10000;
  }
  if (!o.sink && o.timeout_s == 0) {
    o.timeout_s = 60 + (o.duration_s > 0 ? o.duration_s : static_cast<double>(o.messages) / 1000);
  }
  return o;
}

std::string options_help() {
  std::string out =
      "smtpblast: a pipelining SMTP load generator and a programmable sink (io_uring)\n\n"
      "  smtpblast --server HOST:PORT [client flags]\n"
      "  smtpblast --sink --listen HOST:PORT [sink flags]\n\n"
      "Exit status: client 0 when every message got a 2xx, else 1; sink 0 on --expect.\n\n";
  for (const Flag& f : kFlags) {
    std::string left = absl::StrCat("  --", f.name, f.arg != nullptr ? " " : "", f.arg != nullptr ? f.arg : "");
    if (left.size() < 30) {
      left.resize(30, ' ');
    } else {
      left.append(" ");
    }
    absl::StrAppend(&out, left, f.help, *f.def != '\0' ? " [default: " : "", f.def,
                    *f.def != '\0' ? "]" : "", "\n");
  }
  return out;
}

}  // namespace ringmta::blast

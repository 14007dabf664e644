#include "engine/config/config.h"

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/listener.h"

// Debian's libtomlplusplus.so is built with exceptions; we want the
// error-returning API, so the parser is compiled here, header-only.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace ringmta {
namespace {

enum class Kind { kString, kUint, kList };

struct Option {
  const char* flag;      // without the leading "--"
  const char* key;       // TOML "table.key"
  Kind kind;
  const char* def;       // default as shown in --help
  const char* help;
  std::function<absl::Status(Config&, const std::vector<std::string>&)> set;
};

absl::Status set_uint(uint64_t* out, const std::vector<std::string>& v, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  if (v.size() != 1 || !absl::SimpleAtoi(v[0], &n) || n < min || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a whole number from ", min, " to ", max, ", got '",
                     v.empty() ? "" : v[0], "'"));
  }
  *out = n;
  return absl::OkStatus();
}

absl::Status set_bool(bool* out, const std::vector<std::string>& v) {
  if (v.size() != 1 || (v[0] != "true" && v[0] != "false")) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected true or false, got '", v.empty() ? "" : v[0], "'"));
  }
  *out = v[0] == "true";
  return absl::OkStatus();
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(av(v), ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

const std::vector<Option>& options() {
  static const std::vector<Option> opts = {
      {"listen", "server.listen", Kind::kList, "127.0.0.1:2525,[::1]:2525",
       "address to accept SMTP on, ADDR:PORT or [IPV6]:PORT; repeat for more (replaces the default)",
       [](Config& c, const std::vector<std::string>& v) {
         c.listen_is_default = false;
         c.listen.insert(c.listen.end(), v.begin(), v.end());
         return absl::OkStatus();
       }},
      {"listen-tls", "server.listen_tls", Kind::kList, "(none)",
       "address for implicit TLS (SMTP submission over TLS, port 465 style); needs --tls-cert",
       [](Config& c, const std::vector<std::string>& v) {
         c.listen_tls.insert(c.listen_tls.end(), v.begin(), v.end());
         return absl::OkStatus();
       }},
      {"tls-cert", "tls.cert", Kind::kString, "(none: no STARTTLS)",
       "PEM certificate chain (leaf first) for STARTTLS and --listen-tls",
       [](Config& c, const std::vector<std::string>& v) {
         c.tls_cert = v[0];
         return absl::OkStatus();
       }},
      {"tls-key", "tls.key", Kind::kString, "(none)", "PEM private key of --tls-cert",
       [](Config& c, const std::vector<std::string>& v) {
         c.tls_key = v[0];
         return absl::OkStatus();
       }},
      {"auth-users", "auth.users", Kind::kString, "(none: no AUTH)",
       "file of user:crypt-hash lines (yescrypt or sha512-crypt) for SMTP AUTH PLAIN/LOGIN",
       [](Config& c, const std::vector<std::string>& v) {
         c.auth_users = v[0];
         return absl::OkStatus();
       }},
      {"auth-require-tls", "auth.require_tls", Kind::kString, "true",
       "offer AUTH only under TLS; false only behind a TLS-terminating proxy",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.auth_require_tls, v); }},
      {"auth-required", "auth.required", Kind::kString, "false",
       "true: clients outside --relay-networks must AUTH before MAIL (530 5.7.0)",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.auth_required, v); }},
      {"user", "server.user", Kind::kString, "ringmta",
       "started as root: the user to run as once ports, keys and files are open",
       [](Config& c, const std::vector<std::string>& v) {
         c.user = v[0];
         return absl::OkStatus();
       }},
      {"spool", "spool.dir", Kind::kString, "./ringmta-spool", "spool directory (created if missing)",
       [](Config& c, const std::vector<std::string>& v) {
         c.spool_dir = v[0];
         return absl::OkStatus();
       }},
      {"shards", "server.shards", Kind::kUint, "0 (one per CPU)", "number of shard threads",
       [](Config& c, const std::vector<std::string>& v) {
         uint64_t n = 0;
         absl::Status s = set_uint(&n, v, 0, 256);
         c.shards = static_cast<unsigned>(n);
         return s;
       }},
      {"hostname", "server.hostname", Kind::kString, "the system host name",
       "name used in the greeting, EHLO and Received headers",
       [](Config& c, const std::vector<std::string>& v) {
         c.hostname = v[0];
         return absl::OkStatus();
       }},
      {"log-level", "log.level", Kind::kString, "info", "debug, info, warn or error",
       [](Config& c, const std::vector<std::string>& v) {
         if (!parse_log_level(v[0], &c.log_level)) {
           return absl::InvalidArgumentError(
               absl::StrCat("expected debug, info, warn or error, got '", v[0], "'"));
         }
         return absl::OkStatus();
       }},
      {"relay-networks", "relay.networks", Kind::kList, "127.0.0.0/8,::1/128",
       "clients allowed to relay to any domain, CIDR list (replaces the default)",
       [](Config& c, const std::vector<std::string>& v) {
         c.relay_networks.clear();
         for (const std::string& s : v) {
           absl::StatusOr<Cidr> n = Cidr::parse(s);
           if (!n.ok()) {
             return n.status();
           }
           c.relay_networks.push_back(*n);
         }
         return absl::OkStatus();
       }},
      {"local-domains", "relay.local_domains", Kind::kList, "(none)",
       "domains accepted from any client, comma-separated",
       [](Config& c, const std::vector<std::string>& v) {
         c.local_domains.clear();
         for (const std::string& s : v) {
           c.local_domains.push_back(absl::AsciiStrToLower(s));
         }
         return absl::OkStatus();
       }},
      {"max-message-size", "limits.max_message_size", Kind::kUint, "52428800",
       "largest message accepted, in bytes (advertised in EHLO SIZE)",
       [](Config& c, const std::vector<std::string>& v) {
         return set_uint(&c.max_message_size, v, 1024, uint64_t{1} << 32);
       }},
      {"max-recipients", "limits.max_recipients", Kind::kUint, "1000", "recipients per message",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_recipients, v, 1, 100000); }},
      {"max-errors", "limits.max_errors", Kind::kUint, "20",
       "bad commands in a session before it is closed with 421",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_errors, v, 1, 10000); }},
      {"max-command-line", "limits.max_command_line", Kind::kUint, "512",
       "longest command line in octets, CRLF included (RFC 5321 minimum: 512)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_command_line, v, 512, 65536); }},
      {"max-text-line", "limits.max_text_line", Kind::kUint, "1000",
       "text line length counted as over-long in message data (accepted, not refused)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_text_line, v, 1000, 1u << 20); }},
      {"max-connections", "limits.max_connections", Kind::kUint, "4096",
       "concurrent connections per shard; more get 421 4.3.2",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_connections, v, 1, 1000000); }},
      {"timeout-command", "limits.timeout_command", Kind::kUint, "300",
       "seconds a client may stay silent between commands (RFC 5321 4.5.3.2.7)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.timeout_command_s, v, 1, 86400); }},
      {"timeout-data", "limits.timeout_data", Kind::kUint, "300",
       "seconds a client may stay silent inside message data",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.timeout_data_s, v, 1, 86400); }},
      {"min-data-rate", "limits.min_data_rate", Kind::kUint, "500",
       "bytes/s a message must average once --timeout-data has passed (slowloris); 0: off",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.min_data_rate, v, 0, 1u << 30); }},
      {"max-session-time", "limits.max_session_time", Kind::kUint, "3600",
       "seconds a session may last; then 421 4.4.2 between messages; 0: no limit",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_session_time_s, v, 0, 864000); }},
      {"max-junk-commands", "limits.max_junk_commands", Kind::kUint, "100",
       "commands other than MAIL/RCPT/DATA/BDAT/QUIT without a message between; then 421 4.7.0",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_junk_commands, v, 0, 1000000); }},
      {"max-connections-per-ip", "limits.max_connections_per_ip", Kind::kUint, "50",
       "concurrent connections per client IP (IPv6: per /64), outside --relay-networks; 0: no limit",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_connections_per_ip, v, 0, 1000000); }},
      {"max-connect-rate", "limits.max_connect_rate", Kind::kUint, "50",
       "new connections per second per client IP, outside --relay-networks; 0: no limit",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_connect_rate, v, 0, 1000000); }},
      {"max-auth-failures", "limits.max_auth_failures", Kind::kUint, "10",
       "failed AUTH per minute per client IP before AUTH gets 421 4.7.0; 0: no limit",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.max_auth_failures, v, 0, 1000000); }},
      {"shutdown-grace", "server.shutdown_grace", Kind::kUint, "5",
       "seconds a stop waits for messages in transfer before closing them",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.shutdown_grace_s, v, 0, 3600); }},
      {"segment-size", "spool.segment_size", Kind::kUint, "268435456",
       "bytes after which a shard starts a new spool segment file",
       [](Config& c, const std::vector<std::string>& v) {
         return set_uint(&c.segment_size, v, 1 << 20, uint64_t{1} << 40);
       }},
      {"memory-budget", "spool.memory_budget", Kind::kUint, "268435456",
       "bytes of message content each shard keeps in memory for first delivery attempts; past "
       "it (and always once deferred) a message keeps only its metadata and is read back from "
       "the spool (0: always read back)",
       [](Config& c, const std::vector<std::string>& v) {
         return set_uint(&c.memory_budget, v, 0, uint64_t{1} << 40);
       }},
      {"route", "delivery.routes", Kind::kList, "(none)",
       "DOMAIN=HOST:PORT[/TLS]: deliver mail for DOMAIN there instead of its MX, TLS being "
       "off, opportunistic or required (default: --outbound-tls); repeat for more",
       [](Config& c, const std::vector<std::string>& v) {
         for (const std::string& r : v) {
           size_t eq = r.find('=');
           if (eq == std::string::npos || eq == 0 || eq + 1 == r.size()) {
             return absl::InvalidArgumentError(absl::StrCat("expected DOMAIN=HOST:PORT[/TLS], got '", r, "'"));
           }
           size_t slash = r.rfind('/');
           if (slash != std::string::npos && slash > eq &&
               !parse_tls_policy(std::string_view(r).substr(slash + 1), nullptr)) {
             return absl::InvalidArgumentError(
                 absl::StrCat("'", r, "': TLS must be off, opportunistic or required"));
           }
           c.routes.emplace_back(absl::AsciiStrToLower(r.substr(0, eq)), r.substr(eq + 1));
         }
         return absl::OkStatus();
       }},
      {"hold", "delivery.hold", Kind::kString, "false",
       "true: accept and spool mail but deliver none of it (restart without it to deliver)",
       [](Config& c, const std::vector<std::string>& v) {
         if (v[0] != "true" && v[0] != "false") {
           return absl::InvalidArgumentError(absl::StrCat("expected true or false, got '", v[0], "'"));
         }
         c.hold = v[0] == "true";
         return absl::OkStatus();
       }},
      {"outbound-tls", "delivery.outbound_tls", Kind::kString, "opportunistic",
       "STARTTLS when delivering: off, opportunistic (when offered) or required",
       [](Config& c, const std::vector<std::string>& v) {
         if (!parse_tls_policy(v[0], nullptr)) {
           return absl::InvalidArgumentError(
               absl::StrCat("expected off, opportunistic or required, got '", v[0], "'"));
         }
         c.outbound_tls = v[0];
         return absl::OkStatus();
       }},
      {"relay-host", "delivery.relay_host", Kind::kString, "(none: use DNS)",
       "HOST:PORT[/TLS] that receives all mail without a --route (a smarthost)",
       [](Config& c, const std::vector<std::string>& v) {
         size_t slash = v[0].rfind('/');
         if (slash != std::string::npos && !parse_tls_policy(std::string_view(v[0]).substr(slash + 1), nullptr)) {
           return absl::InvalidArgumentError(
               absl::StrCat("'", v[0], "': TLS must be off, opportunistic or required"));
         }
         c.relay_host = v[0];
         return absl::OkStatus();
       }},
      {"mx-port", "delivery.mx_port", Kind::kUint, "25", "port used for mail exchangers found in DNS",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.mx_port, v, 1, 65535); }},
      {"resolver", "delivery.resolver", Kind::kString, "(/etc/resolv.conf)",
       "DNS servers as IP:PORT[,IP:PORT] instead of the system's",
       [](Config& c, const std::vector<std::string>& v) {
         for (const std::string& server : split_list(v[0])) {
           absl::StatusOr<Endpoint> ep = parse_endpoint(server);
           if (!ep.ok()) {
             return ep.status();
           }
         }
         c.resolver = v[0];
         return absl::OkStatus();
       }},
      {"retry-min", "delivery.retry_min", Kind::kUint, "300", "seconds before the first retry of a deferred recipient",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.retry_min_s, v, 1, 86400); }},
      {"retry-max", "delivery.retry_max", Kind::kUint, "4000", "longest wait between retries (the wait doubles up to it)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.retry_max_s, v, 1, 7 * 86400); }},
      {"queue-lifetime", "delivery.queue_lifetime", Kind::kUint, "432000",
       "seconds after arrival when a still-deferred recipient is bounced (5 days)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.queue_lifetime_s, v, 0, 365 * 86400); }},
      {"event-log", "delivery.event_log", Kind::kString, "(none)",
       "file that gets one JSON line per delivery attempt outcome",
       [](Config& c, const std::vector<std::string>& v) {
         c.event_log = v[0];
         return absl::OkStatus();
       }},
      {"dest-connections", "delivery.dest_connections", Kind::kUint, "20",
       "most simultaneous connections to one destination",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.dest_connections, v, 1, 10000); }},
      {"messages-per-connection", "delivery.messages_per_connection", Kind::kUint, "1000",
       "messages sent over one outbound connection before it is closed",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.messages_per_connection, v, 1, 1000000); }},
      {"connect-timeout", "delivery.connect_timeout", Kind::kUint, "30", "seconds to wait for a TCP connection",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.connect_timeout_s, v, 1, 3600); }},
      {"smtp-timeout", "delivery.smtp_timeout", Kind::kUint, "300",
       "seconds to wait for each reply from a remote server (twice that after the end of data)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.smtp_timeout_s, v, 1, 3600); }},
  };
  return opts;
}

const Option* find_flag(std::string_view name) {
  for (const Option& o : options()) {
    if (name == o.flag) {
      return &o;
    }
  }
  return nullptr;
}


absl::Status apply(Config& c, const Option& o, const std::vector<std::string>& v,
                   std::string_view where) {
  // where names the flag or the config key, so every error says which.
  absl::Status s = o.set(c, v);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(av(where), ": ", s.message()));
  }
  return s;
}

absl::Status load_toml(Config& c, const std::string& path) {
  toml::parse_result res = toml::parse_file(path);
  if (!res) {
    const toml::parse_error& e = res.error();
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ":", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   av(std::string_view(e.description()))));
  }
  toml::table& root = res.table();
  // Unknown keys are errors: a misspelt key silently ignored is a setting
  // the operator believes is in force.
  for (auto& [table_name, node] : root) {
    toml::table* t = node.as_table();
    if (t == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("config ", path, ": '", av(std::string_view(table_name)),
                                                     "' must be a table such as [server]"));
    }
    for (auto& [key, value] : *t) {
      std::string full = absl::StrCat(av(std::string_view(table_name)), ".", av(std::string_view(key)));
      const Option* opt = nullptr;
      for (const Option& o : options()) {
        if (full == o.key) {
          opt = &o;
        }
      }
      std::string where = absl::StrCat("config ", path, ": ", full);
      if (opt == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key (see ringmta --help)"));
      }
      std::vector<std::string> vals;
      if (opt->kind == Kind::kList) {
        toml::array* arr = value.as_array();
        if (arr == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array of strings"));
        }
        for (auto& el : *arr) {
          if (!el.is_string()) {
            return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array of strings"));
          }
          vals.push_back(*el.value<std::string>());
        }
        if (opt->flag == std::string_view("listen")) {
          c.listen.clear();  // the file's list replaces the default
        }
      } else if (opt->kind == Kind::kUint) {
        if (!value.is_integer()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected a number"));
        }
        vals.push_back(std::to_string(*value.value<int64_t>()));
      } else {
        if (value.is_boolean()) {
          vals.push_back(*value.value<bool>() ? "true" : "false");
        } else if (value.is_string()) {
          vals.push_back(*value.value<std::string>());
        } else {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected a string"));
        }
      }
      absl::Status s = apply(c, *opt, vals, where);
      if (!s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool parse_tls_policy(std::string_view text, proto::TlsPolicy* out) {
  proto::TlsPolicy p;
  if (text == "off") {
    p = proto::TlsPolicy::kOff;
  } else if (text == "opportunistic") {
    p = proto::TlsPolicy::kOpportunistic;
  } else if (text == "required") {
    p = proto::TlsPolicy::kRequired;
  } else {
    return false;
  }
  if (out != nullptr) {
    *out = p;
  }
  return true;
}

std::string help_text() {
  std::string out =
      "Usage: ringmta [FLAGS]\n"
      "ringmta accepts mail over SMTP and stores it durably in its spool.\n"
      "With no flags it runs on its embedded defaults.\n\n"
      "  --config FILE                  TOML file with settings (flags override it)\n";
  for (const Option& o : options()) {
    std::string left = absl::StrCat("  --", o.flag, o.kind == Kind::kList ? " LIST" : " VALUE");
    left.resize(std::max<size_t>(left.size() + 1, 33), ' ');
    absl::StrAppend(&out, left, o.help, " [", o.def, "]  (config: ", o.key, ")\n");
  }
  absl::StrAppend(&out,
                  "  --help                         print this and exit\n"
                  "  --version                      print the version and exit\n");
  return out;
}

absl::StatusOr<ParsedConfig> parse_config(int argc, char** argv) {
  ParsedConfig out;
  Config& c = out.config;
  for (std::string_view d : {"127.0.0.0/8", "::1/128"}) {
    c.relay_networks.push_back(*Cidr::parse(d));
  }
  // First pass: --help, --version and --config, so that the file is applied
  // before the flags, whatever their order.
  std::vector<std::pair<const Option*, std::string>> flags;
  std::string config_file;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(help_text().c_str(), stdout);
      out.exit_now = true;
      return out;
    }
    if (arg == "--version") {
      std::printf("ringmta %s\n", RINGMTA_VERSION);
      out.exit_now = true;
      return out;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option* opt = find_flag(sv(arg));
    if (opt == nullptr && arg != "config") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg, " (see --help)"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", arg, " needs a value"));
      }
      value = argv[++i];
    }
    if (opt == nullptr) {
      config_file = value;
    } else {
      flags.emplace_back(opt, value);
    }
  }
  if (!config_file.empty()) {
    if (access(config_file.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--config ", config_file, ": cannot read the file"));
    }
    absl::Status s = load_toml(c, config_file);
    if (!s.ok()) {
      return s;
    }
  }
  bool listen_replaced = false;
  for (auto& [opt, value] : flags) {
    if (opt->flag == std::string_view("listen") && !listen_replaced) {
      c.listen.clear();  // the first --listen replaces the default or the file's list
      listen_replaced = true;
    }
    std::vector<std::string> vals =
        opt->kind == Kind::kList ? split_list(value) : std::vector<std::string>{value};
    if (vals.empty() && opt->kind != Kind::kList) {
      vals.push_back("");
    }
    absl::Status s = apply(c, *opt, vals, absl::StrCat("--", opt->flag));
    if (!s.ok()) {
      return s;
    }
  }
  if (c.listen.empty() && c.listen_tls.empty()) {
    return absl::InvalidArgumentError("--listen: at least one address is needed");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!c.listen_tls.empty() && c.tls_cert.empty()) {
    return absl::InvalidArgumentError("--listen-tls needs --tls-cert and --tls-key");
  }
  if (!c.auth_users.empty() && c.auth_require_tls && c.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--auth-users offers AUTH only under TLS: give --tls-cert and --tls-key too "
        "(or --auth-require-tls false behind a TLS-terminating proxy)");
  }
  if (c.auth_required && c.auth_users.empty()) {
    return absl::InvalidArgumentError("--auth-required true needs --auth-users");
  }
  if (c.hostname.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    c.hostname = name[0] != 0 ? name : "localhost";
  }
  return out;
}

}  // namespace ringmta

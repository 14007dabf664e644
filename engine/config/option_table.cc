// engine/config/option_table.cc — every setting ringmta has, once: its flag,
// TOML key, default, help text and the check its value must pass
// (option_table.h). parse_tls_policy lives here too: routes and the relay
// host carry a TLS policy, and the table checks it.
#include "engine/config/option_table.h"
#include "proto/address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/listener.h"

namespace ringmta {
namespace config_internal {

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
      {"admin-listen", "admin.listen", Kind::kList, "127.0.0.1:8025",
       "address for the HTTP admin and injection API and /metrics; repeat for more; \"\" turns it off",
       [](Config& c, const std::vector<std::string>& v) {
         if (c.admin_listen_is_default) {
           c.admin_listen.clear();
           c.admin_listen_is_default = false;
         }
         c.admin_listen.insert(c.admin_listen.end(), v.begin(), v.end());
         return absl::OkStatus();
       }},
      {"admin-tls", "admin.tls", Kind::kString, "false",
       "true: the admin API speaks HTTPS with --tls-cert and --tls-key",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.admin_tls, v); }},
      {"admin-max-body", "admin.max_body", Kind::kUint, "67108864",
       "largest admin API request body in bytes (413 beyond)",
       [](Config& c, const std::vector<std::string>& v) {
         return set_uint(&c.admin_max_body, v, 1024, uint64_t{1} << 32);
       }},
      {"admin-trusted-networks", "admin.trusted_networks", Kind::kList, "127.0.0.0/8,::1/128",
       "clients that may use the admin API without a token, CIDR list (replaces the default)",
       [](Config& c, const std::vector<std::string>& v) {
         c.admin_trusted_networks.clear();
         for (const std::string& s : v) {
           absl::StatusOr<Cidr> n = Cidr::parse(s);
           if (!n.ok()) {
             return n.status();
           }
           c.admin_trusted_networks.push_back(*n);
         }
         return absl::OkStatus();
       }},
      {"admin-tokens-file", "admin.tokens_file", Kind::kString, "(none: only the trusted networks)",
       "file of bearer tokens, one per line: a client outside --admin-trusted-networks sends "
       "Authorization: Bearer TOKEN",
       [](Config& c, const std::vector<std::string>& v) {
         c.admin_tokens_file = v[0];
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
      {"postmaster", "server.postmaster", Kind::kString, "(none: <postmaster> is refused)",
       "address that mail to <postmaster> (RFC 5321 4.5.1) is delivered to, e.g. ops@example.com",
       [](Config& c, const std::vector<std::string>& v) {
         const std::string path = absl::StrCat("<", v[0], ">");  // the Address views into it
         proto::Address a;
         if (proto::parse_path(path, proto::PathOptions{.smtputf8 = true}, &a) !=
                 proto::PathStatus::kOk ||
             a.domain.empty()) {
           return absl::InvalidArgumentError(absl::StrCat("expected an address like ops@example.com, got '", v[0], "'"));
         }
         c.postmaster = proto::address_text(a);
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
      {"allow-open-relay", "relay.allow_open_relay", Kind::kString, "false",
       "true: accept a --relay-networks prefix shorter than /8 (IPv4) or /32 (IPv6); then anyone in it may "
       "send mail through ringmta to any domain, which spammers find within hours",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.allow_open_relay, v); }},
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
       "off, opportunistic or required (default: --outbound-tls); DOMAIN=lmtp:HOST:PORT or "
       "DOMAIN=lmtp:unix:/PATH delivers it over LMTP (RFC 2033: Dovecot, Cyrus; TLS off unless "
       "/TLS); HOST may be a name (A/AAAA, no MX); repeat for more",
       [](Config& c, const std::vector<std::string>& v) {
         for (const std::string& r : v) {
           size_t eq = r.find('=');
           if (eq == std::string::npos || eq == 0 || eq + 1 == r.size()) {
             return absl::InvalidArgumentError(absl::StrCat("expected DOMAIN=HOST:PORT[/TLS], got '", r, "'"));
           }
           const std::string_view to = std::string_view(r).substr(eq + 1);
           if (to.starts_with("lmtp:unix:") && (to.size() == 10 || to[10] != '/')) {
             return absl::InvalidArgumentError(absl::StrCat("'", r, "': expected lmtp:unix:/ABSOLUTE/PATH"));
           }
           size_t slash = to.starts_with("lmtp:unix:") ? std::string::npos : r.rfind('/');
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
       "HOST:PORT[/TLS] that receives all mail without a --route (a smarthost); a host name is looked up "
       "(A/AAAA, not its MX, like Postfix's [host])",
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
      {"bounce-classes", "delivery.bounce_classes", Kind::kString, "(built in: tools/bounce-classes.toml)",
       "TOML rules that class each failed delivery (InvalidRecipient, QuotaIssues, ...) for the event log "
       "and DSNs: regexes over \"CODE ENHANCED TEXT\", first match wins; replaces the built-in rules",
       [](Config& c, const std::vector<std::string>& v) {
         if (v[0].empty()) {
           return absl::InvalidArgumentError("expected the path of a rules file");
         }
         c.bounce_classes_file = v[0];
         return absl::OkStatus();
       }},
      {"dest-connections", "delivery.dest_connections", Kind::kUint, "20",
       "most simultaneous connections to one site (shaping.default connection_limit overrides it)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.dest_connections, v, 1, 10000); }},
      {"messages-per-connection", "delivery.messages_per_connection", Kind::kUint, "1000",
       "messages sent over one outbound connection before it is closed (shaping: max_deliveries_per_connection)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.messages_per_connection, v, 1, 1000000); }},
      {"shaping-file", "shaping.file", Kind::kString, "(none: the tables of --config)",
       "TOML file with the traffic shaping tables ([shaping.default], [shaping.domain.\"D\"], [[shaping.rule]]); "
       "read again on SIGHUP",
       [](Config& c, const std::vector<std::string>& v) {
         c.shaping_file = v[0];
         return absl::OkStatus();
       }},
      {"connect-timeout", "delivery.connect_timeout", Kind::kUint, "30", "seconds to wait for a TCP connection",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.connect_timeout_s, v, 1, 3600); }},
      {"smtp-timeout", "delivery.smtp_timeout", Kind::kUint, "300",
       "seconds to wait for each reply from a remote server (twice that after the end of data)",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.smtp_timeout_s, v, 1, 3600); }},
      {"signing-threads", "signing.threads", Kind::kUint, "0 (one per shard)",
       "threads that DKIM-sign messages for the [[dkim]] keys of --config (README \"DKIM\")",
       [](Config& c, const std::vector<std::string>& v) { return set_uint(&c.signing_threads, v, 0, 256); }},
  };
  static const std::vector<Option> all = [] {
    std::vector<Option> v = opts;
    for (Option& o : policy_options()) v.push_back(std::move(o));
    for (Option& o : submit_options()) v.push_back(std::move(o));
    return v;
  }();
  return all;
}

const Option* find_flag(std::string_view flag) {
  for (const Option& o : options()) {
    if (flag == o.flag) {
      return &o;
    }
  }
  return nullptr;
}

const Option* find_key(std::string_view key) {
  for (const Option& o : options()) {
    if (key == o.key) {
      return &o;
    }
  }
  return nullptr;
}

absl::Status apply_option(Config& c, const Option& o, const std::vector<std::string>& values,
                          std::string_view where) {
  absl::Status s = o.set(c, values);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(av(where), ": ", s.message()));
  }
  return s;
}

}  // namespace config_internal

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

}  // namespace ringmta

// tools/postfix/postfix_mapping.cc — Postfix's settings onto ringmta's TOML
// (map_postfix_config in postfix_config.h; the state is postfix_mapping.h).
#include "tools/postfix/postfix_mapping.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "tools/postfix/postfix_text.h"

namespace ringmta::postfix {
namespace {

// Why ringmta has no equivalent, by name or prefix.
std::string why_unmapped(std::string_view name) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kWhy = {
      {"smtpd_milters", "ringmta has no milter client"},
      {"non_smtpd_milters", "ringmta has no milter client"},
      {"milter_", "ringmta has no milter client"},
      {"header_checks", "ringmta does no header or body checks"},
      {"body_checks", "ringmta does no header or body checks"},
      {"mime_header_checks", "ringmta does no header or body checks"},
      {"nested_header_checks", "ringmta does no header or body checks"},
      {"smtp_header_checks", "ringmta does no header or body checks"},
      {"virtual_alias_", "ringmta does not rewrite addresses (no aliases)"},
      {"virtual_mailbox_", "ringmta does not deliver to mailboxes: route the domains with delivery.routes"},
      {"virtual_transport", "ringmta does not deliver to mailboxes: route the domains with delivery.routes"},
      {"alias_", "ringmta does not deliver locally (no aliases)"},
      {"canonical_", "ringmta does not rewrite addresses"},
      {"sender_canonical_", "ringmta does not rewrite addresses"},
      {"recipient_canonical_", "ringmta does not rewrite addresses"},
      {"masquerade_", "ringmta does not rewrite addresses"},
      {"home_mailbox", "ringmta does not deliver to local mailboxes"},
      {"mailbox_", "ringmta does not deliver to local mailboxes"},
      {"local_", "ringmta does not deliver to local mailboxes"},
      {"smtpd_sasl_", "SASL: ringmta authenticates against auth.users (a file of its own), set it by hand"},
      {"smtp_sasl_", "ringmta does not authenticate to a relayhost"},
      {"smtpd_client_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_helo_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_sender_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_recipient_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_relay_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_data_restrictions", "ringmta's policy is relay.networks and relay.local_domains"},
      {"smtpd_tls_", "ringmta's STARTTLS takes tls.cert and tls.key only"},
      {"smtp_tls_", "ringmta's outbound TLS is delivery.outbound_tls only"},
      {"content_filter", "ringmta has no content filter hook"},
      {"relay_recipient_maps", "ringmta accepts every recipient of relay.local_domains"},
      {"smtpd_banner", "ringmta's greeting is fixed (server.hostname)"},
      {"transport_maps", "table type not readable here"},
  };
  for (const auto& [prefix, why] : kWhy) {
    if (absl::StartsWith(av(name), av(prefix))) return std::string(why);
  }
  return "no ringmta equivalent (Postfix's own setting)";
}

// is_table: "type:name", a Postfix lookup table, not an address.
bool is_table(std::string_view w) {
  static const std::set<std::string_view> kTypes = {
      "btree",  "cdb",   "cidr",      "dbm",    "environ", "fail",  "hash",     "inline",   "ldap",
      "lmdb",   "mysql", "memcache",  "nis",    "pcre",    "pgsql", "pipemap",  "proxy",    "randmap",
      "regexp", "sdbm",  "socketmap", "sqlite", "static",  "tcp",   "texthash", "unionmap", "unix"};
  const size_t colon = w.find(':');
  return colon != std::string_view::npos && kTypes.count(w.substr(0, colon)) != 0;
}

// rate_for_delay: Postfix's per-destination delay between deliveries as a
// ringmta rate ("1/s", "12/min", "3/h").
std::string rate_for_delay(int64_t delay_s) {
  if (delay_s <= 1) return "1/s";
  if (60 % delay_s == 0) return absl::StrCat(60 / delay_s, "/min");
  if (3600 % delay_s == 0 || delay_s < 3600) return absl::StrCat(std::max<int64_t>(1, 3600 / delay_s), "/h");
  return absl::StrCat(std::max<int64_t>(1, 86400 / delay_s), "/day");
}

}  // namespace

std::vector<std::string>& Toml::section(const std::string& name) {
  for (auto& s : sections) {
    if (s.first == name) return s.second;
  }
  sections.emplace_back(name, std::vector<std::string>{});
  return sections.back().second;
}

ImportResult map_postfix_config(const PostfixParams& set, const std::vector<MasterService>& services,
                                const ReadFile& read_file, std::string_view source) {
  return Mapper(set, services, read_file).run(source);
}

ImportResult Mapper::run(std::string_view source) {
  if (const std::string* v = get("myhostname")) {
    _t.section("server").push_back(absl::StrCat("hostname = ", quote(*v)));
    _used.insert("myhostname");
  }

  listen();
  relay();
  relay_host();
  transports();
  if (!_routes.empty()) _t.section("delivery").push_back(absl::StrCat("routes = ", quote_list(_routes)));
  limits();
  // Shaping: the smtp transport's (and the defaults') limits apply to every
  // destination; a transport that transport_maps picks for a domain gives
  // that domain its limits.
  shaping("smtp", "shaping.default");
  for (const auto& [domain, transport] : _transport_domains) {
    if (transport != "smtp") shaping(transport, absl::StrCat("shaping.domain.", quote(domain)));
  }
  // Everything else main.cf sets.
  for (const auto& [name, value] : _set) {
    if (_used.count(name) != 0) continue;
    _r.unmapped.push_back(absl::StrCat(name, " = ", value, "  # ", why_unmapped(name)));
  }

  render(source);
  return std::move(_r);
}

const std::string* Mapper::get(std::string_view name) const {
  auto it = _set.find(name);
  return it == _set.end() ? nullptr : &it->second;
}

void Mapper::unmapped(std::string_view name, std::string_view why) {
  const std::string* v = get(name);
  _r.unmapped.push_back(absl::StrCat(av(name), " = ", v ? *v : "", "  # ", av(why)));
  _used.insert(std::string(name));
}

// listen: master.cf's smtpd inet services on inet_interfaces.
void Mapper::listen() {
  const std::string* ifs = get("inet_interfaces");
  const std::string* protos = get("inet_protocols");
  const bool v6 = protos == nullptr || protos->find("ipv6") != std::string::npos || *protos == "all";
  const bool v4 = protos == nullptr || protos->find("ipv4") != std::string::npos || *protos == "all";
  std::vector<std::string> hosts;
  for (const std::string& w : words(ifs ? *ifs : "all")) {
    if (w == "all") {
      if (v4) hosts.push_back("0.0.0.0");
      if (v6) hosts.push_back("[::]");
    } else if (w == "loopback-only" || w == "localhost") {
      if (v4) hosts.push_back("127.0.0.1");
      if (v6) hosts.push_back("[::1]");
    } else if (w.find(':') != std::string::npos) {
      hosts.push_back(w.front() == '[' ? w : absl::StrCat("[", w, "]"));
    } else {
      hosts.push_back(w);
    }
  }
  _used.insert("inet_interfaces");
  _used.insert("inet_protocols");
  std::vector<std::string> listen;
  std::vector<std::string> listen_tls;
  for (const MasterService& s : _services) {
    if (s.type != "inet" || s.command != "smtpd") continue;
    std::string name = s.name;
    std::string host;
    const size_t colon = name.rfind(':');
    if (colon != std::string::npos) {
      host = name.substr(0, colon);
      name = name.substr(colon + 1);
    }
    uint64_t port = 0;
    if (name == "smtp")
      port = 25;
    else if (name == "submission")
      port = 587;
    else if (name == "smtps" || name == "submissions")
      port = 465;
    else if (!parse_uint(name, &port) || port == 0 || port > 65535) {
      _notes.push_back(absl::StrCat("master.cf service ", s.name, ": unknown port name, not mapped"));
      continue;
    }
    auto wrapper = s.overrides.find("smtpd_tls_wrappermode");
    const bool tls = port == 465 || (wrapper != s.overrides.end() && wrapper->second == "yes");
    std::vector<std::string>& into = tls ? listen_tls : listen;
    const std::vector<std::string> on = host.empty() ? hosts : std::vector<std::string>{host};
    for (const std::string& h : on) {
      std::string a = absl::StrCat(h.find(':') != std::string::npos && h.front() != '[' ? "[" + h + "]" : h, ":", port);
      if (std::find(into.begin(), into.end(), a) == into.end()) into.push_back(a);
    }
    if (port == 587) {
      _notes.push_back(absl::StrCat("master.cf ", s.name,
                                    " (submission) is on server.listen: ringmta asks for "
                                    "AUTH there only if auth.required says so"));
    }
  }
  if (!listen.empty()) _t.section("server").push_back(absl::StrCat("listen = ", quote_list(listen)));
  if (!listen_tls.empty()) {
    _t.section("server").push_back(absl::StrCat("listen_tls = ", quote_list(listen_tls)));
  }
}

// relay: mynetworks, and the domains Postfix took mail for.
void Mapper::relay() {
  if (const std::string* v = get("mynetworks")) {
    std::vector<std::string> nets;
    for (std::string w : words(*v)) {
      if (is_table(w)) {  // "cidr:/etc/postfix/network_table"
        _notes.push_back(absl::StrCat("mynetworks entry ", w, " is a table: not mapped"));
        continue;
      }
      if (w.front() == '/') {
        _notes.push_back(absl::StrCat("mynetworks entry ", w, " is a file: not mapped"));
        continue;
      }
      w.erase(std::remove(w.begin(), w.end(), '['), w.end());
      w.erase(std::remove(w.begin(), w.end(), ']'), w.end());
      if (w.find('/') == std::string::npos) w += w.find(':') != std::string::npos ? "/128" : "/32";
      nets.push_back(w);
    }
    _t.section("relay").push_back(absl::StrCat("networks = ", quote_list(nets)));
    _used.insert("mynetworks");
  }
  {
    std::vector<std::string> domains;
    for (std::string_view name : {"mydestination", "relay_domains"}) {
      const std::string* v = get(name);
      if (v == nullptr) continue;
      _used.insert(std::string(name));
      for (const std::string& w : words(*v)) {
        if (is_table(w) || w.front() == '/') {
          _notes.push_back(absl::StrCat(av(name), " entry ", w, " is a table or file: not mapped"));
          continue;
        }
        std::string d = absl::AsciiStrToLower(w);
        if (std::find(domains.begin(), domains.end(), d) == domains.end()) domains.push_back(d);
      }
    }
    if (!domains.empty()) {
      std::vector<std::string>& relay = _t.section("relay");
      relay.push_back("# WARNING: ringmta does not deliver to local mailboxes. Mail for these domains is");
      relay.push_back("# accepted from anyone and delivered like any other mail (MX, or a route): route");
      relay.push_back("# each one with LMTP to the server that holds its mailboxes (Dovecot, Cyrus), e.g.");
      relay.push_back("#   delivery.routes = [\"example.com=lmtp:HOST:PORT\"]   (or lmtp:unix:/PATH)");
      relay.push_back(absl::StrCat("local_domains = ", quote_list(domains)));
    }
  }
}

void Mapper::relay_host() {
  if (const std::string* v = get("relayhost"); v != nullptr && !trim(*v).empty()) {
    bool mx = false;
    const std::string hp = host_port(*v, 25, &mx);
    if (hp.empty()) {
      unmapped("relayhost", "not a HOST, [HOST] or [HOST]:PORT");
    } else {
      _t.section("delivery").push_back(absl::StrCat("relay_host = ", quote(hp)));
      if (mx) _notes.push_back(absl::StrCat("relayhost ", *v, ": Postfix looks up its MX; ringmta connects to it"));
      _used.insert("relayhost");
    }
  }
}

void Mapper::limits() {
  const auto uint_key = [&](std::string_view name, const std::string& section, std::string_view key, uint64_t lo,
                            uint64_t hi, uint64_t zero_means) {
    const std::string* v = get(name);
    if (v == nullptr) return;
    uint64_t n = 0;
    if (!parse_uint(*v, &n)) {
      unmapped(name, "not a number");
      return;
    }
    if (n == 0) n = zero_means;
    const uint64_t clamped = std::clamp(n, lo, hi);
    if (clamped != n) _notes.push_back(absl::StrCat(av(name), " = ", *v, ": ringmta takes ", lo, "..", hi));
    _t.section(section).push_back(absl::StrCat(av(key), " = ", clamped));
    _used.insert(std::string(name));
  };
  uint_key("message_size_limit", "limits", "max_message_size", 1024, uint64_t{1} << 32, uint64_t{1} << 32);
  uint_key("smtpd_recipient_limit", "limits", "max_recipients", 1, 100000, 100000);

  if (const std::string* v = get("smtpd_tls_cert_file"); v != nullptr && !v->empty()) {
    _t.section("tls").push_back(absl::StrCat("cert = ", quote(*v)));
    _used.insert("smtpd_tls_cert_file");
  }
  if (const std::string* v = get("smtpd_tls_key_file"); v != nullptr && !v->empty()) {
    _t.section("tls").push_back(absl::StrCat("key = ", quote(*v)));
    _used.insert("smtpd_tls_key_file");
  }
  if (const std::string* v = get("smtp_tls_security_level")) {
    std::string level;
    if (*v == "none" || v->empty())
      level = "off";
    else if (*v == "may")
      level = "opportunistic";
    else if (*v == "encrypt")
      level = "required";
    else if (*v == "dane" || *v == "dane-only" || *v == "verify" || *v == "secure") {
      level = "required";
      _notes.push_back(absl::StrCat("smtp_tls_security_level = ", *v,
                                    ": ringmta requires TLS but does not check DANE or the certificate's name"));
    }
    if (level.empty()) {
      unmapped("smtp_tls_security_level", "unknown level");
    } else {
      _t.section("delivery").push_back(absl::StrCat("outbound_tls = ", quote(level)));
      _used.insert("smtp_tls_security_level");
    }
  }
  uint_key("default_destination_concurrency_limit", "delivery", "dest_connections", 1, 10000, 1);

  const auto time_key = [&](std::string_view name, char unit, std::string_view key, int64_t hi) {
    const std::string* v = get(name);
    if (v == nullptr) return;
    int64_t s = 0;
    if (!parse_postfix_time(*v, unit, &s)) {
      unmapped(name, "not a Postfix time (N[s|m|h|d|w])");
      return;
    }
    int64_t lo = key == "queue_lifetime" ? 0 : 1;
    const int64_t c = std::clamp<int64_t>(s, lo, hi);
    if (c != s) _notes.push_back(absl::StrCat(av(name), " = ", *v, ": ringmta takes ", lo, "..", hi, " seconds"));
    _t.section("delivery").push_back(absl::StrCat(av(key), " = ", c, "  # ", av(name), " = ", *v));
    _used.insert(std::string(name));
  };
  time_key("maximal_queue_lifetime", 'd', "queue_lifetime", 365 * 86400);
  time_key("minimal_backoff_time", 's', "retry_min", 86400);
  time_key("maximal_backoff_time", 's', "retry_max", 7 * 86400);
}

void Mapper::shaping(const std::string& transport, const std::string& table) {
  std::vector<std::string> lines;
  for (const std::string& prefix : {transport, std::string("default")}) {
    if (prefix == "default" && table != "shaping.default") break;
    const std::string limit = prefix + "_destination_concurrency_limit";
    const std::string delay = prefix + "_destination_rate_delay";
    if (const std::string* v = get(limit)) {
      uint64_t n = 0;
      if (parse_uint(*v, &n) && n > 0 && std::none_of(lines.begin(), lines.end(), [](const std::string& l) {
            return absl::StartsWith(l, "connection_limit");
          })) {
        lines.push_back(absl::StrCat("connection_limit = ", std::min<uint64_t>(n, 100000), "  # ", limit));
        _used.insert(limit);
      }
    }
    if (const std::string* v = get(delay)) {
      int64_t s = 0;
      if (parse_postfix_time(*v, 's', &s) && s > 0 &&
          std::none_of(lines.begin(), lines.end(),
                       [](const std::string& l) { return absl::StartsWith(l, "max_message_rate"); })) {
        lines.push_back(absl::StrCat("max_message_rate = ", quote(rate_for_delay(s)), "  # ", delay, " = ", *v));
        _used.insert(delay);
      } else if (s == 0) {
        _used.insert(delay);
      }
    }
  }
  if (!lines.empty()) {
    std::vector<std::string>& sec = _t.section(table);
    sec.insert(sec.end(), lines.begin(), lines.end());
  }
}

void Mapper::render(std::string_view source) {
  std::string& out = _r.toml;
  absl::StrAppend(&out, "# ringmta configuration imported from Postfix (", av(source),
                  ") by ringmta-ctl import-postfix.\n# Check it with: ringmta --config FILE --check-config\n");
  for (const std::string& n : _notes) absl::StrAppend(&out, "# NOTE: ", n, "\n");
  for (const auto& [section, lines] : _t.sections) {
    absl::StrAppend(&out, "\n[", section, "]\n");
    for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  }
  absl::StrAppend(&out, "\n# Not imported (", _r.unmapped.size(), "): Postfix settings with no ringmta equivalent.\n");
  for (const std::string& u : _r.unmapped) {
    std::string line = u;
    std::replace(line.begin(), line.end(), '\n', ' ');
    absl::StrAppend(&out, "# ", line, "\n");
  }
}

}  // namespace ringmta::postfix

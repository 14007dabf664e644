// tools/postfix/postfix_config.cc — main.cf and master.cf readers and the
// mapping onto ringmta's TOML (postfix_config.h).
#include "tools/postfix/postfix_config.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::postfix {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// logical_lines: comment-free lines with their continuations joined.
std::vector<std::string> logical_lines(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view line_a : absl::StrSplit(av(text), '\n')) {
    std::string_view line = sv(line_a);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (absl::ascii_isspace(static_cast<unsigned char>(line.front())) && !out.empty()) {
      absl::StrAppend(&out.back(), " ", av(t));
    } else {
      out.emplace_back(t);
    }
  }
  return out;
}

// words: a value split at commas and blanks (Postfix lists).
std::vector<std::string> words(std::string_view v) {
  std::vector<std::string> out;
  for (absl::string_view w_a : absl::StrSplit(av(v), absl::ByAnyChar(", \t\n"), absl::SkipEmpty())) {
    std::string_view w = sv(w_a);
    out.emplace_back(w);
  }
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", c < 0x10 ? "0" : "", absl::Hex(static_cast<unsigned char>(c)));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string quote_list(const std::vector<std::string>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ", ", [](std::string* o, const std::string& s) { o->append(quote(s)); }),
                      "]");
}

bool parse_uint(std::string_view s, uint64_t* out) {
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// host_port: "[host]:port", "[host]", "host:port", "host" (Postfix next
// hops) as ringmta's "HOST:PORT" (IPv6 in brackets); `mx` is set when the
// host was not in brackets (Postfix would look up its MX records).
std::string host_port(std::string_view hop, uint64_t default_port, bool* mx) {
  hop = trim(hop);
  std::string host;
  std::string port = std::to_string(default_port);
  *mx = true;
  if (absl::StartsWith(av(hop), "inet:")) hop.remove_prefix(5);
  if (!hop.empty() && hop.front() == '[') {
    *mx = false;
    const size_t close = hop.find(']');
    if (close == std::string_view::npos) return "";
    host = std::string(hop.substr(1, close - 1));
    if (absl::StartsWith(av(host), "ipv6:") || absl::StartsWith(av(host), "IPv6:")) host = host.substr(5);
    std::string_view rest = hop.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') port = std::string(rest.substr(1));
  } else {
    const size_t colon = hop.rfind(':');
    host = std::string(hop.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(hop.substr(colon + 1));
  }
  if (port == "smtp") port = "25";
  if (port == "lmtp") port = "24";
  if (port == "submission") port = "587";
  uint64_t n = 0;
  if (host.empty() || !parse_uint(port, &n) || n == 0 || n > 65535) return "";
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", n);
  return absl::StrCat(host, ":", n);
}

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

struct Toml {
  // section -> lines, in first-use order.
  std::vector<std::pair<std::string, std::vector<std::string>>> sections;
  std::vector<std::string>& section(const std::string& name) {
    for (auto& s : sections) {
      if (s.first == name) return s.second;
    }
    sections.emplace_back(name, std::vector<std::string>{});
    return sections.back().second;
  }
};

// rate_for_delay: Postfix's per-destination delay between deliveries as a
// ringmta rate ("1/s", "12/min", "3/h").
std::string rate_for_delay(int64_t delay_s) {
  if (delay_s <= 1) return "1/s";
  if (60 % delay_s == 0) return absl::StrCat(60 / delay_s, "/min");
  if (3600 % delay_s == 0 || delay_s < 3600) return absl::StrCat(std::max<int64_t>(1, 3600 / delay_s), "/h");
  return absl::StrCat(std::max<int64_t>(1, 86400 / delay_s), "/day");
}

}  // namespace

PostfixParams parse_main_cf(std::string_view text) {
  PostfixParams out;
  for (const std::string& line : logical_lines(text)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name(trim(std::string_view(line).substr(0, eq)));
    if (name.empty()) continue;
    out[name] = std::string(trim(std::string_view(line).substr(eq + 1)));
  }
  return out;
}

void expand_params(PostfixParams* p, const PostfixParams& defaults) {
  const auto lookup = [&](std::string_view name) -> const std::string* {
    if (auto it = p->find(name); it != p->end()) return &it->second;
    if (auto it = defaults.find(name); it != defaults.end()) return &it->second;
    return nullptr;
  };
  std::function<std::string(std::string_view, int)> expand = [&](std::string_view v, int depth) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '$' || i + 1 == v.size()) {
        out.push_back(v[i]);
        continue;
      }
      const size_t start = i + 1;
      std::string_view name;
      if (v[start] == '{' || v[start] == '(') {
        const size_t end = v.find(v[start] == '{' ? '}' : ')', start);
        if (end == std::string_view::npos) {
          out.append(v.substr(i));
          break;
        }
        // ${name?value} and ${name:value} are kept simple: the name only.
        name = v.substr(start + 1, end - start - 1);
        name = name.substr(0, name.find_first_of("?:"));
        i = end;
      } else {
        if (v[start] == '$') {  // "$$" is a literal "$"
          out.push_back('$');
          i = start;
          continue;
        }
        size_t end = start;
        while (end < v.size() && (absl::ascii_isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_')) ++end;
        if (end == start) {
          out.push_back('$');
          continue;
        }
        name = v.substr(start, end - start);
        i = end - 1;
      }
      if (const std::string* value = lookup(name); value != nullptr && depth < 20) {
        out.append(expand(*value, depth + 1));
      }
    }
    return out;
  };
  PostfixParams expanded;
  for (const auto& [k, v] : *p) expanded[k] = expand(v, 0);
  *p = std::move(expanded);
}

namespace {

// tables: a list of lookup tables ("hash:/a, inline:{x=y, z=w}"), an
// inline table's braces kept whole.
std::vector<std::string> tables(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : v) {
    if (c == '{') ++depth;
    if (c == '}' && depth > 0) --depth;
    if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n')) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

std::vector<MasterService> parse_master_cf(std::string_view text) {
  std::vector<MasterService> out;
  for (const std::string& line : logical_lines(text)) {
    std::vector<std::string> fields;
    for (absl::string_view w_a : absl::StrSplit(av(line), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      std::string_view w = sv(w_a);
      fields.emplace_back(w);
    }
    if (fields.size() < 8) continue;
    MasterService s;
    s.name = fields[0];
    s.type = fields[1];
    s.command = fields[7];
    for (size_t i = 8; i < fields.size(); ++i) {
      std::string o;
      if (fields[i] == "-o" && i + 1 < fields.size()) {
        o = fields[++i];
      } else if (absl::StartsWith(fields[i], "-o")) {
        o = fields[i].substr(2);
      }
      const size_t eq = o.find('=');
      if (eq != std::string::npos) s.overrides[o.substr(0, eq)] = o.substr(eq + 1);
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool parse_postfix_time(std::string_view text, char default_unit, int64_t* seconds) {
  text = trim(text);
  if (text.empty()) return false;
  char unit = default_unit;
  if (absl::ascii_isalpha(static_cast<unsigned char>(text.back()))) {
    unit = absl::ascii_tolower(static_cast<unsigned char>(text.back()));
    text.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!parse_uint(text, &n) || n > (uint64_t{1} << 32)) return false;
  int64_t mult = 0;
  switch (unit) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    case 'w':
      mult = 7 * 86400;
      break;
    default:
      return false;
  }
  *seconds = static_cast<int64_t>(n) * mult;
  return true;
}

ImportResult map_postfix_config(const PostfixParams& set, const std::vector<MasterService>& services,
                                const ReadFile& read_file, std::string_view source) {
  ImportResult r;
  Toml t;
  std::set<std::string, std::less<>> used;
  std::vector<std::string> notes;  // comments at the top, about mapped values
  const auto get = [&](std::string_view name) -> const std::string* {
    auto it = set.find(name);
    return it == set.end() ? nullptr : &it->second;
  };
  const auto unmapped = [&](std::string_view name, std::string_view why) {
    const std::string* v = get(name);
    r.unmapped.push_back(absl::StrCat(av(name), " = ", v ? *v : "", "  # ", av(why)));
    used.insert(std::string(name));
  };

  if (const std::string* v = get("myhostname")) {
    t.section("server").push_back(absl::StrCat("hostname = ", quote(*v)));
    used.insert("myhostname");
  }

  // server.listen: master.cf's smtpd inet services on inet_interfaces.
  {
    std::vector<std::string> addrs;
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
    used.insert("inet_interfaces");
    used.insert("inet_protocols");
    std::vector<std::string> listen;
    std::vector<std::string> listen_tls;
    for (const MasterService& s : services) {
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
        notes.push_back(absl::StrCat("master.cf service ", s.name, ": unknown port name, not mapped"));
        continue;
      }
      auto wrapper = s.overrides.find("smtpd_tls_wrappermode");
      const bool tls = port == 465 || (wrapper != s.overrides.end() && wrapper->second == "yes");
      std::vector<std::string>& into = tls ? listen_tls : listen;
      const std::vector<std::string> on = host.empty() ? hosts : std::vector<std::string>{host};
      for (const std::string& h : on) {
        std::string a =
            absl::StrCat(h.find(':') != std::string::npos && h.front() != '[' ? "[" + h + "]" : h, ":", port);
        if (std::find(into.begin(), into.end(), a) == into.end()) into.push_back(a);
      }
      if (port == 587) {
        notes.push_back(absl::StrCat("master.cf ", s.name,
                                     " (submission) is on server.listen: ringmta asks for "
                                     "AUTH there only if auth.required says so"));
      }
    }
    if (!listen.empty()) t.section("server").push_back(absl::StrCat("listen = ", quote_list(listen)));
    if (!listen_tls.empty()) {
      t.section("server").push_back(absl::StrCat("listen_tls = ", quote_list(listen_tls)));
    }
  }

  if (const std::string* v = get("mynetworks")) {
    std::vector<std::string> nets;
    for (std::string w : words(*v)) {
      if (is_table(w)) {  // "cidr:/etc/postfix/network_table"
        notes.push_back(absl::StrCat("mynetworks entry ", w, " is a table: not mapped"));
        continue;
      }
      if (w.front() == '/') {
        notes.push_back(absl::StrCat("mynetworks entry ", w, " is a file: not mapped"));
        continue;
      }
      w.erase(std::remove(w.begin(), w.end(), '['), w.end());
      w.erase(std::remove(w.begin(), w.end(), ']'), w.end());
      if (w.find('/') == std::string::npos) w += w.find(':') != std::string::npos ? "/128" : "/32";
      nets.push_back(w);
    }
    t.section("relay").push_back(absl::StrCat("networks = ", quote_list(nets)));
    used.insert("mynetworks");
  }
  {
    std::vector<std::string> domains;
    for (std::string_view name : {"mydestination", "relay_domains"}) {
      const std::string* v = get(name);
      if (v == nullptr) continue;
      used.insert(std::string(name));
      for (const std::string& w : words(*v)) {
        if (is_table(w) || w.front() == '/') {
          notes.push_back(absl::StrCat(av(name), " entry ", w, " is a table or file: not mapped"));
          continue;
        }
        std::string d = absl::AsciiStrToLower(w);
        if (std::find(domains.begin(), domains.end(), d) == domains.end()) domains.push_back(d);
      }
    }
    if (!domains.empty()) {
      std::vector<std::string>& relay = t.section("relay");
      relay.push_back("# WARNING: ringmta does not deliver to local mailboxes. Mail for these domains is");
      relay.push_back("# accepted from anyone and delivered like any other mail (MX, or a route): route");
      relay.push_back("# each one with LMTP to the server that holds its mailboxes (Dovecot, Cyrus), e.g.");
      relay.push_back("#   delivery.routes = [\"example.com=lmtp:HOST:PORT\"]   (or lmtp:unix:/PATH)");
      relay.push_back(absl::StrCat("local_domains = ", quote_list(domains)));
    }
  }

  std::vector<std::string> routes;
  if (const std::string* v = get("relayhost"); v != nullptr && !trim(*v).empty()) {
    bool mx = false;
    const std::string hp = host_port(*v, 25, &mx);
    if (hp.empty()) {
      unmapped("relayhost", "not a HOST, [HOST] or [HOST]:PORT");
    } else {
      t.section("delivery").push_back(absl::StrCat("relay_host = ", quote(hp)));
      if (mx) notes.push_back(absl::StrCat("relayhost ", *v, ": Postfix looks up its MX; ringmta connects to it"));
      used.insert("relayhost");
    }
  }

  // Per-destination shaping from transport_maps' transports.
  std::vector<std::pair<std::string, std::string>> transport_domains;  // (domain, transport)
  if (const std::string* v = get("transport_maps")) {
    used.insert("transport_maps");
    for (const std::string& table : tables(*v)) {
      std::vector<std::pair<std::string, std::string>> entries;
      if (absl::StartsWith(table, "inline:{")) {
        const std::string body = table.substr(8, table.rfind('}') - 8);
        for (absl::string_view e_a : absl::StrSplit(av(body), ',', absl::SkipWhitespace())) {
          std::string_view e = sv(e_a);
          const size_t eq = e.find('=');
          if (eq == std::string_view::npos) continue;
          entries.emplace_back(trim(e.substr(0, eq)), trim(e.substr(eq + 1)));
        }
      } else if (absl::StartsWith(table, "texthash:") || absl::StartsWith(table, "hash:") ||
                 absl::StartsWith(table, "lmdb:") || absl::StartsWith(table, "btree:")) {
        const std::string path = table.substr(table.find(':') + 1);
        absl::StatusOr<std::string> text = read_file(path);
        if (!text.ok()) {
          r.unmapped.push_back(
              absl::StrCat("transport_maps ", table, "  # cannot read ", path, ": ", text.status().message()));
          continue;
        }
        for (const std::string& line : logical_lines(*text)) {
          std::vector<std::string> f;
          for (absl::string_view w_a : absl::StrSplit(av(line), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
            std::string_view w = sv(w_a);
            f.emplace_back(w);
          }
          if (f.size() >= 2) entries.emplace_back(f[0], f[1]);
        }
      } else {
        r.unmapped.push_back(absl::StrCat("transport_maps ", table,
                                          "  # table type not readable here (use "
                                          "texthash:, hash: with its source file, or inline:)"));
        continue;
      }
      for (const auto& [key, value] : entries) {
        const size_t colon = value.find(':');
        const std::string transport = value.substr(0, colon);
        const std::string nexthop = colon == std::string::npos ? "" : value.substr(colon + 1);
        std::string command = transport;
        for (const MasterService& s : services) {
          if (s.name == transport && s.type == "unix") command = s.command;
        }
        const std::string entry = absl::StrCat("transport_maps ", key, " ", value);
        if (key.front() == '.' || key == "*" || key.find('@') != std::string::npos) {
          r.unmapped.push_back(absl::StrCat(entry,
                                            "  # ringmta routes whole domains only (no subdomain, "
                                            "wildcard or address keys)"));
          continue;
        }
        if (command == "lmtp") {
          // lmtp:unix:/path, lmtp:inet:host:port, lmtp:[host]:port, lmtp:host (port 24).
          std::string target;
          if (absl::StartsWith(nexthop, "unix:")) {
            std::string path = nexthop.substr(5);
            if (!path.empty() && path.front() != '/') {
              // Postfix opens a relative socket path inside its queue_directory.
              const std::string* q = get("queue_directory");
              path = absl::StrCat(q != nullptr ? *q : "/var/spool/postfix", "/", path);
              notes.push_back(absl::StrCat(entry, ": the socket is ", path,
                                           " (Postfix's queue_directory): ringmta must be able to reach it"));
            }
            if (!path.empty()) target = absl::StrCat("lmtp:unix:", path);
          } else if (!nexthop.empty()) {
            bool mx = false;
            const std::string hp = host_port(nexthop, 24, &mx);
            if (!hp.empty()) target = absl::StrCat("lmtp:", hp);
          }
          if (target.empty()) {
            r.unmapped.push_back(absl::StrCat(entry, "  # an LMTP next hop ringmta does not understand "
                                              "(it takes lmtp:HOST:PORT and lmtp:unix:/PATH)"));
          } else {
            routes.push_back(absl::StrCat(absl::AsciiStrToLower(key), "=", target));
          }
          continue;
        }
        if (command != "smtp") {
          r.unmapped.push_back(
              absl::StrCat(entry, "  # transport ", transport, " (", command, ") has no ringmta equivalent"));
          continue;
        }
        transport_domains.emplace_back(absl::AsciiStrToLower(key), transport);
        if (nexthop.empty()) continue;  // the transport only: shaping below
        bool mx = false;
        const std::string hp = host_port(nexthop, 25, &mx);
        if (hp.empty()) {
          r.unmapped.push_back(absl::StrCat(entry, "  # next hop not understood"));
          continue;
        }
        routes.push_back(absl::StrCat(absl::AsciiStrToLower(key), "=", hp));
        if (mx)
          notes.push_back(absl::StrCat(entry, ": Postfix looks up the MX of ", nexthop, "; ringmta connects to it"));
      }
    }
  }
  if (!routes.empty()) t.section("delivery").push_back(absl::StrCat("routes = ", quote_list(routes)));

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
    if (clamped != n) notes.push_back(absl::StrCat(av(name), " = ", *v, ": ringmta takes ", lo, "..", hi));
    t.section(section).push_back(absl::StrCat(av(key), " = ", clamped));
    used.insert(std::string(name));
  };
  uint_key("message_size_limit", "limits", "max_message_size", 1024, uint64_t{1} << 32, uint64_t{1} << 32);
  uint_key("smtpd_recipient_limit", "limits", "max_recipients", 1, 100000, 100000);

  if (const std::string* v = get("smtpd_tls_cert_file"); v != nullptr && !v->empty()) {
    t.section("tls").push_back(absl::StrCat("cert = ", quote(*v)));
    used.insert("smtpd_tls_cert_file");
  }
  if (const std::string* v = get("smtpd_tls_key_file"); v != nullptr && !v->empty()) {
    t.section("tls").push_back(absl::StrCat("key = ", quote(*v)));
    used.insert("smtpd_tls_key_file");
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
      notes.push_back(absl::StrCat("smtp_tls_security_level = ", *v,
                                   ": ringmta requires TLS but does not check DANE or the certificate's name"));
    }
    if (level.empty()) {
      unmapped("smtp_tls_security_level", "unknown level");
    } else {
      t.section("delivery").push_back(absl::StrCat("outbound_tls = ", quote(level)));
      used.insert("smtp_tls_security_level");
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
    if (c != s) notes.push_back(absl::StrCat(av(name), " = ", *v, ": ringmta takes ", lo, "..", hi, " seconds"));
    t.section("delivery").push_back(absl::StrCat(av(key), " = ", c, "  # ", av(name), " = ", *v));
    used.insert(std::string(name));
  };
  time_key("maximal_queue_lifetime", 'd', "queue_lifetime", 365 * 86400);
  time_key("minimal_backoff_time", 's', "retry_min", 86400);
  time_key("maximal_backoff_time", 's', "retry_max", 7 * 86400);

  // Shaping: the smtp transport's (and the defaults') limits apply to every
  // destination; a transport that transport_maps picks for a domain gives
  // that domain its limits.
  const auto shaping = [&](const std::string& transport, const std::string& table) {
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
          used.insert(limit);
        }
      }
      if (const std::string* v = get(delay)) {
        int64_t s = 0;
        if (parse_postfix_time(*v, 's', &s) && s > 0 &&
            std::none_of(lines.begin(), lines.end(),
                         [](const std::string& l) { return absl::StartsWith(l, "max_message_rate"); })) {
          lines.push_back(absl::StrCat("max_message_rate = ", quote(rate_for_delay(s)), "  # ", delay, " = ", *v));
          used.insert(delay);
        } else if (s == 0) {
          used.insert(delay);
        }
      }
    }
    if (!lines.empty()) {
      std::vector<std::string>& sec = t.section(table);
      sec.insert(sec.end(), lines.begin(), lines.end());
    }
  };
  shaping("smtp", "shaping.default");
  for (const auto& [domain, transport] : transport_domains) {
    if (transport != "smtp") shaping(transport, absl::StrCat("shaping.domain.", quote(domain)));
  }

  // Everything else main.cf sets.
  for (const auto& [name, value] : set) {
    if (used.count(name) != 0) continue;
    r.unmapped.push_back(absl::StrCat(name, " = ", value, "  # ", why_unmapped(name)));
  }

  std::string& out = r.toml;
  absl::StrAppend(&out, "# ringmta configuration imported from Postfix (", av(source),
                  ") by ringmta-ctl import-postfix.\n# Check it with: ringmta --config FILE --check-config\n");
  for (const std::string& n : notes) absl::StrAppend(&out, "# NOTE: ", n, "\n");
  for (const auto& [section, lines] : t.sections) {
    absl::StrAppend(&out, "\n[", section, "]\n");
    for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  }
  absl::StrAppend(&out, "\n# Not imported (", r.unmapped.size(), "): Postfix settings with no ringmta equivalent.\n");
  for (const std::string& u : r.unmapped) {
    std::string line = u;
    std::replace(line.begin(), line.end(), '\n', ' ');
    absl::StrAppend(&out, "# ", line, "\n");
  }
  return r;
}

}  // namespace ringmta::postfix

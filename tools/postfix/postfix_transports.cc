// tools/postfix/postfix_transports.cc — transport_maps onto delivery.routes
// (and the transports whose limits become shaping), for Mapper
// (postfix_mapping.h).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"
#include "tools/postfix/postfix_mapping.h"
#include "tools/postfix/postfix_text.h"

namespace ringmta::postfix {
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

void Mapper::transports() {
  const std::string* v = get("transport_maps");
  if (v == nullptr) return;
  _used.insert("transport_maps");
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
      absl::StatusOr<std::string> text = _read_file(path);
      if (!text.ok()) {
        _r.unmapped.push_back(
            absl::StrCat("transport_maps ", table, "  # cannot read ", path, ": ", text.status().message()));
        continue;
      }
      for (const std::string& line : logical_lines(*text)) {
        const std::vector<std::string> f = fields(line);
        if (f.size() >= 2) entries.emplace_back(f[0], f[1]);
      }
    } else {
      _r.unmapped.push_back(absl::StrCat("transport_maps ", table,
                                         "  # table type not readable here (use "
                                         "texthash:, hash: with its source file, or inline:)"));
      continue;
    }
    for (const auto& [key, value] : entries) transport_entry(key, value);
  }
}

// transport_entry: one "key transport:nexthop" of a transport table.
void Mapper::transport_entry(const std::string& key, const std::string& value) {
  const size_t colon = value.find(':');
  const std::string transport = value.substr(0, colon);
  const std::string nexthop = colon == std::string::npos ? "" : value.substr(colon + 1);
  std::string command = transport;
  for (const MasterService& s : _services) {
    if (s.name == transport && s.type == "unix") command = s.command;
  }
  const std::string entry = absl::StrCat("transport_maps ", key, " ", value);
  if (key.front() == '.' || key == "*" || key.find('@') != std::string::npos) {
    _r.unmapped.push_back(absl::StrCat(entry,
                                       "  # ringmta routes whole domains only (no subdomain, "
                                       "wildcard or address keys)"));
    return;
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
        _notes.push_back(absl::StrCat(entry, ": the socket is ", path,
                                      " (Postfix's queue_directory): ringmta must be able to reach it"));
      }
      if (!path.empty()) target = absl::StrCat("lmtp:unix:", path);
    } else if (!nexthop.empty()) {
      bool mx = false;
      const std::string hp = host_port(nexthop, 24, &mx);
      if (!hp.empty()) target = absl::StrCat("lmtp:", hp);
    }
    if (target.empty()) {
      _r.unmapped.push_back(absl::StrCat(entry,
                                         "  # an LMTP next hop ringmta does not understand "
                                         "(it takes lmtp:HOST:PORT and lmtp:unix:/PATH)"));
    } else {
      _routes.push_back(absl::StrCat(absl::AsciiStrToLower(key), "=", target));
    }
    return;
  }
  if (command != "smtp") {
    _r.unmapped.push_back(
        absl::StrCat(entry, "  # transport ", transport, " (", command, ") has no ringmta equivalent"));
    return;
  }
  _transport_domains.emplace_back(absl::AsciiStrToLower(key), transport);
  if (nexthop.empty()) return;  // the transport only: shaping below
  bool mx = false;
  const std::string hp = host_port(nexthop, 25, &mx);
  if (hp.empty()) {
    _r.unmapped.push_back(absl::StrCat(entry, "  # next hop not understood"));
    return;
  }
  _routes.push_back(absl::StrCat(absl::AsciiStrToLower(key), "=", hp));
  if (mx) _notes.push_back(absl::StrCat(entry, ": Postfix looks up the MX of ", nexthop, "; ringmta connects to it"));
}

}  // namespace ringmta::postfix

// engine/config/egress_file.cc — the [egress] tables of the config file
// (egress_file.h).
#include "engine/config/egress_file.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

// parse_address reads an IPv4 or IPv6 address (no port).
bool parse_address(const std::string& text, EgressSource* s) {
  s->addr = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&s->addr);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    s->len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&s->addr);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    s->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// try_bind: can this host send from the address? Checked at start so that
// a typo or a missing address is an error now, not deferrals later.
absl::Status try_bind(const EgressSource& s, std::string_view where) {
  int fd = socket(s.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return toml_key_error(where, absl::StrCat("socket: ", strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&s.addr), s.len);
  const int err = errno;
  close(fd);
  if (rc != 0) {
    return toml_key_error(where, absl::StrCat("cannot send from ", s.address, ": ", strerror(err),
                                   " (is the address configured on this host?)"));
  }
  return absl::OkStatus();
}

absl::Status read_sources(const toml::table& t, const std::string& where, Egress* out) {
  for (const auto& [name, node] : t) {
    EgressSource s;
    s.name = std::string(name.str());
    const std::string at = absl::StrCat(where, ".source.\"", s.name, "\"");
    const toml::table* st = node.as_table();
    if (st == nullptr) {
      return toml_key_error(at, "expected a table with address = \"...\"");
    }
    for (const auto& [k, v] : *st) {
      const std::string kat = absl::StrCat(at, ".", av(k.str()));
      std::optional<std::string> sv = v.value<std::string>();
      if (k.str() == "address") {
        if (!v.is_string() || !parse_address(*sv, &s)) {
          return toml_key_error(kat, "expected an IPv4 or IPv6 address such as \"192.0.2.10\"");
        }
        s.address = *sv;
      } else if (k.str() == "ehlo") {
        if (!v.is_string() || sv->empty() || sv->size() > 255 || sv->find_first_of(" \t\r\n") != std::string::npos) {
          return toml_key_error(kat, "expected a host name");
        }
        s.ehlo = *sv;
      } else {
        return toml_key_error(kat, "unknown key (a source takes address and ehlo)");
      }
    }
    if (s.address.empty()) {
      return toml_key_error(at, "needs address = \"...\"");
    }
    absl::Status b = try_bind(s, at);
    if (!b.ok()) {
      return b;
    }
    out->sources.push_back(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status read_pools(const toml::table& t, const std::string& where, Egress* out) {
  for (const auto& [name, node] : t) {
    EgressPool p;
    p.name = std::string(name.str());
    const std::string at = absl::StrCat(where, ".pool.\"", p.name, "\"");
    const toml::table* pt = node.as_table();
    const toml::array* members = pt != nullptr && pt->get("sources") ? pt->get("sources")->as_array() : nullptr;
    if (members == nullptr || members->empty() || pt->size() != 1) {
      return toml_key_error(at, "expected sources = [{ name = \"ip-1\", weight = 1 }, ...] (and nothing else)");
    }
    for (const toml::node& m : *members) {
      const toml::table* mt = m.as_table();
      const std::string mat = absl::StrCat(at, ".sources");
      std::optional<std::string> src = mt != nullptr && mt->get("name") ? mt->get("name")->value<std::string>()
                                                                         : std::nullopt;
      if (!src) {
        return toml_key_error(mat, "each member is { name = \"SOURCE\", weight = N }");
      }
      EgressPool::Member member;
      bool found = false;
      for (size_t i = 0; i < out->sources.size(); ++i) {
        if (out->sources[i].name == *src) {
          member.source = i;
          found = true;
        }
      }
      if (!found) {
        return toml_key_error(mat, absl::StrCat("no [egress.source.\"", *src, "\"]"));
      }
      for (const auto& [k, v] : *mt) {
        if (k.str() == "weight") {
          std::optional<int64_t> w = v.value<int64_t>();
          if (!v.is_integer() || *w < 1 || *w > 1000) {
            return toml_key_error(mat, "weight: expected a whole number from 1 to 1000");
          }
          member.weight = static_cast<uint32_t>(*w);
        } else if (k.str() != "name") {
          return toml_key_error(mat, absl::StrCat("unknown key '", av(k.str()), "' (a member takes name and weight)"));
        }
      }
      p.members.push_back(member);
    }
    out->pools.push_back(std::move(p));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Egress> load_egress(const std::string& config_file) {
  Egress out;
  if (config_file.empty()) {
    return out;
  }
  toml::parse_result res = toml::parse_file(config_file);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", config_file), res.error());
  }
  const toml::node* node = res.table().get("egress");
  if (node == nullptr) {
    return out;
  }
  const std::string where = absl::StrCat("config ", config_file, ": egress");
  const toml::table* t = node->as_table();
  if (t == nullptr) {
    return toml_key_error(where, "must be a table such as [egress.source.\"ip-1\"]");
  }
  // Sources first: pools name them.
  if (const toml::node* s = t->get("source")) {
    if (s->as_table() == nullptr) {
      return toml_key_error(where + ".source", "expected tables such as [egress.source.\"ip-1\"]");
    }
    absl::Status st = read_sources(*s->as_table(), where, &out);
    if (!st.ok()) {
      return st;
    }
  }
  if (const toml::node* p = t->get("pool")) {
    if (p->as_table() == nullptr) {
      return toml_key_error(where + ".pool", "expected tables such as [egress.pool.\"newsletters\"]");
    }
    absl::Status st = read_pools(*p->as_table(), where, &out);
    if (!st.ok()) {
      return st;
    }
  }
  for (const auto& [k, v] : *t) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    if (key == "source" || key == "pool") {
      continue;
    }
    if (key == "default_pool") {
      std::optional<std::string> name = v.value<std::string>();
      if (!v.is_string() || out.pool(*name) == nullptr) {
        return toml_key_error(at, "expected the name of an [egress.pool.\"...\"]");
      }
      out.default_pool = *name;
    } else if (key == "pool_by_sender_domain") {
      const toml::table* m = v.as_table();
      if (m == nullptr) {
        return toml_key_error(at, "expected { \"sender.example.com\" = \"POOL\", ... }");
      }
      for (const auto& [domain, pool] : *m) {
        std::optional<std::string> name = pool.value<std::string>();
        if (!pool.is_string() || out.pool(*name) == nullptr) {
          return toml_key_error(absl::StrCat(at, ".\"", av(domain.str()), "\""), "expected the name of an [egress.pool.\"...\"]");
        }
        out.pool_by_sender_domain[absl::AsciiStrToLower(av(domain.str()))] = *name;
      }
    } else {
      return toml_key_error(at, "unknown key (egress takes source, pool, default_pool, pool_by_sender_domain)");
    }
  }
  if (!out.sources.empty() && out.pools.empty()) {
    return toml_key_error(where, "sources are used through pools: add [egress.pool.\"NAME\"] with sources = [...] and "
                      "default_pool = \"NAME\"");
  }
  return out;
}

}  // namespace ringmta

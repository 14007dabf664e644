// engine/config/dkim_file.cc — the [[dkim]] tables and their keys
// (dkim_file.h).
#include "engine/config/dkim_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"
#include "engine/outbound/shaping.h"
#include "proto/address.h"

namespace ringmta {
namespace {

// field_name: RFC 5322 ftext, printable ASCII but ':'.
bool field_name(std::string_view s) {
  if (s.empty() || s.size() > 100) {
    return false;
  }
  for (char c : s) {
    if (c <= 32 || c >= 127 || c == ':') {
      return false;
    }
  }
  return true;
}

absl::Status read_strings(const toml::node& v, const std::string& at, std::vector<std::string>* out) {
  const toml::array* arr = v.as_array();
  if (arr == nullptr) {
    return toml_key_error(at, "expected an array of strings");
  }
  for (const toml::node& el : *arr) {
    if (!el.is_string()) {
      return toml_key_error(at, "expected an array of strings");
    }
    out->push_back(*el.value<std::string>());
  }
  return absl::OkStatus();
}

absl::Status read_key(DkimEntry* e, const std::string& at) {
  std::ifstream in(e->key_file, std::ios::binary);
  if (!in) {
    return toml_key_error(at, absl::StrCat("cannot read ", e->key_file, ": ", strerror(errno),
                                           " (ringmta reads keys as root at start; on SIGHUP as its --user)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > 64 * 1024) {
    return toml_key_error(at, absl::StrCat(e->key_file, ": too large for a PEM private key"));
  }
  absl::StatusOr<proto::DkimKey> key = proto::DkimKey::from_pem(text.str());
  if (!key.ok()) {
    return toml_key_error(at, absl::StrCat(e->key_file, ": ", key.status().message()));
  }
  e->signer.key = std::make_shared<const proto::DkimKey>(std::move(*key));
  return absl::OkStatus();
}

absl::Status read_entry(const toml::table& t, const std::string& where, DkimEntry* e) {
  bool algorithm_set = false;
  proto::DkimAlgorithm algorithm = proto::DkimAlgorithm::kRsaSha256;
  for (const auto& [k, v] : t) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    const std::optional<std::string> s = v.value<std::string>();
    if (key == "domain") {
      if (!s || !proto::valid_dns_name(*s)) {
        return toml_key_error(at, "expected a domain name such as \"example.com\"");
      }
      e->signer.domain = absl::AsciiStrToLower(*s);
    } else if (key == "selector") {
      if (!s || !proto::valid_dns_name(*s)) {
        return toml_key_error(at, "expected a selector such as \"s2026\" (letters, digits, '-', '_', '.')");
      }
      e->signer.selector = *s;
    } else if (key == "key") {
      if (!s || s->empty()) {
        return toml_key_error(at, "expected the path of a PEM private key");
      }
      e->key_file = *s;
    } else if (key == "algorithm") {
      if (!s || !proto::parse_algorithm(*s, &algorithm)) {
        return toml_key_error(at, "expected \"rsa-sha256\" or \"ed25519-sha256\"");
      }
      algorithm_set = true;
    } else if (key == "canonicalization") {
      if (!s || !proto::parse_canonicalization(*s, &e->signer.header_canon, &e->signer.body_canon)) {
        return toml_key_error(at, "expected \"relaxed/relaxed\", \"relaxed/simple\", \"simple/relaxed\" or "
                                  "\"simple/simple\"");
      }
    } else if (key == "headers") {
      e->signer.headers.clear();
      if (absl::Status st = read_strings(v, at, &e->signer.headers); !st.ok()) {
        return st;
      }
      for (const std::string& h : e->signer.headers) {
        if (!field_name(h)) {
          return toml_key_error(at, absl::StrCat("'", h, "' is not a header field name"));
        }
      }
    } else if (key == "expire") {
      int64_t ms = 0;
      if (!s || !parse_duration(*s, &ms)) {
        return toml_key_error(at, "expected a duration such as \"7d\" or \"12h\" (at most 30 days)");
      }
      e->signer.expire = absl::Milliseconds(ms);
    } else if (key == "sign_for") {
      if (absl::Status st = read_strings(v, at, &e->sign_for); !st.ok()) {
        return st;
      }
      for (std::string& d : e->sign_for) {
        d = absl::AsciiStrToLower(d);
        if (d != "*" && !proto::valid_dns_name(d)) {
          return toml_key_error(at, absl::StrCat("'", d, "' is neither a domain nor \"*\""));
        }
      }
    } else {
      return toml_key_error(at, "unknown key (a [[dkim]] takes domain, selector, key, algorithm, "
                                "canonicalization, headers, expire, sign_for; see README \"DKIM\")");
    }
  }
  for (auto [name, missing] : {std::pair{"domain", e->signer.domain.empty()},
                               std::pair{"selector", e->signer.selector.empty()},
                               std::pair{"key", e->key_file.empty()}}) {
    if (missing) {
      return toml_key_error(where, absl::StrCat("needs ", name, " = \"...\""));
    }
  }
  if (absl::Status st = read_key(e, absl::StrCat(where, ".key")); !st.ok()) {
    return st;
  }
  if (algorithm_set && algorithm != e->signer.key->algorithm()) {
    return toml_key_error(absl::StrCat(where, ".algorithm"),
                          absl::StrCat(e->key_file, " is an ",
                                       e->signer.key->algorithm() == proto::DkimAlgorithm::kRsaSha256 ? "RSA" : "Ed25519",
                                       " key, not one for ", av(proto::algorithm_name(algorithm))));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const DkimSigners>> load_dkim(const std::string& config_file) {
  if (config_file.empty()) {
    return nullptr;
  }
  toml::parse_result res = toml::parse_file(config_file);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", config_file), res.error());
  }
  const toml::node* node = res.table().get("dkim");
  if (node == nullptr) {
    return nullptr;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    return toml_key_error(absl::StrCat("config ", config_file, ": dkim"), "expected [[dkim]] tables (one per key)");
  }
  std::vector<DkimEntry> entries;
  for (const toml::node& n : *arr) {
    const std::string where = absl::StrCat("config ", config_file, ": dkim[", entries.size() + 1, "]");
    const toml::table* t = n.as_table();
    if (t == nullptr) {
      return toml_key_error(where, "expected a table");
    }
    DkimEntry e;
    if (absl::Status s = read_entry(*t, where, &e); !s.ok()) {
      return s;
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty()) {
    return nullptr;
  }
  return std::make_shared<const DkimSigners>(std::move(entries));
}

}  // namespace ringmta

// tools/ctl/spf.cc — SPF record syntax (spf.h), RFC 7208 4.5, 5, 6, 7.1,
// and the suggested record.
#include "tools/ctl/spf.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

bool alpha(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); }
bool alnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
bool digit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

// macro_string: literals (%x21-24 / %x26-7E) and macros; sets *ends_in_macro.
bool macro_string(std::string_view s, bool* ends_in_macro) {
  *ends_in_macro = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    *ends_in_macro = false;
    if (c != '%') {
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
      continue;
    }
    if (++i >= s.size()) {
      return false;
    }
    if (s[i] == '%' || s[i] == '_' || s[i] == '-') {
      continue;
    }
    if (s[i] != '{' || ++i >= s.size() || !absl::StrContains("slodiphvSLODIPHV", s[i])) {
      return false;  // c, r and t are for exp= text only (RFC 7208 7.2)
    }
    ++i;
    while (i < s.size() && digit(s[i])) {
      ++i;
    }
    if (i < s.size() && (s[i] == 'r' || s[i] == 'R')) {
      ++i;
    }
    while (i < s.size() && absl::StrContains(".-+,/_=", s[i])) {
      ++i;
    }
    if (i >= s.size() || s[i] != '}') {
      return false;
    }
    *ends_in_macro = true;
  }
  return true;
}

// toplabel: RFC 7208 7.1, a label that is not all digits.
bool toplabel(std::string_view l) {
  if (l.empty() || !alnum(l.front()) || !alnum(l.back())) {
    return false;
  }
  bool letter_or_dash = false;
  for (char c : l) {
    if (!alnum(c) && c != '-') {
      return false;
    }
    letter_or_dash |= alpha(c) || c == '-';
  }
  return letter_or_dash;
}

// cidr_length: "0" or digits without a leading zero, at most `max`.
bool cidr_length(std::string_view s, int max, int* out) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  int n = 0;
  for (char c : s) {
    if (!digit(c)) {
      return false;
    }
    n = n * 10 + (c - '0');
  }
  *out = n;
  return n <= max;
}

// take_dual_cidr strips "/N", "//M" or "/N//M" from the end of *s.
absl::Status take_dual_cidr(std::string_view* s, SpfTerm* t) {
  auto tail = [&](std::string_view* in, bool v6) -> absl::Status {
    const size_t slash = in->rfind('/');
    if (slash == std::string_view::npos) {
      return absl::OkStatus();
    }
    const std::string_view digits = in->substr(slash + 1);
    if (digits.empty() || !digit(digits[0])) {
      return absl::OkStatus();  // not a length: the domain-spec check reports it
    }
    const bool double_slash = slash > 0 && (*in)[slash - 1] == '/';
    if (double_slash != v6) {
      return absl::OkStatus();
    }
    if (!cidr_length(digits, v6 ? 128 : 32, v6 ? &t->cidr6 : &t->cidr4)) {
      return absl::InvalidArgumentError(absl::StrCat("'", t->text, "': bad CIDR length /", av(digits)));
    }
    in->remove_suffix(in->size() - slash + (v6 ? 1 : 0));
    return absl::OkStatus();
  };
  if (absl::Status st = tail(s, true); !st.ok()) {
    return st;
  }
  return tail(s, false);
}

absl::Status bad(const SpfTerm& t, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("'", t.text, "': ", av(why)));
}

// ip_mechanism reads ip4:ADDR[/N] or ip6:ADDR[/N].
absl::Status ip_mechanism(std::string_view rest, bool v6, SpfTerm* t) {
  if (rest.empty() || rest[0] != ':') {
    return bad(*t, "expected ':' and an address");
  }
  rest.remove_prefix(1);
  const size_t slash = rest.find('/');
  const std::string_view addr = rest.substr(0, slash);
  // ip4 takes only dotted quads, ip6 only IPv6 text (an IPv4-mapped one
  // included): the colon says which the writer meant.
  const bool has_colon = addr.find(':') != std::string_view::npos;
  std::optional<IpAddress> a = IpAddress::parse(addr);
  if (!a || has_colon != v6) {
    return bad(*t, v6 ? "not an IPv6 address" : "not an IPv4 address");
  }
  t->network = *a;
  int* len = a->v6 ? &t->cidr6 : &t->cidr4;
  if (slash != std::string_view::npos && !cidr_length(rest.substr(slash + 1), a->max_prefix(), len)) {
    return bad(*t, "bad CIDR length");
  }
  return absl::OkStatus();
}

absl::Status mechanism(std::string_view name, std::string_view rest, SpfTerm* t) {
  if (name == "all") {
    t->mechanism = SpfMechanism::kAll;
    return rest.empty() ? absl::OkStatus() : bad(*t, "'all' takes nothing after it");
  }
  if (name == "ip4" || name == "ip6") {
    t->mechanism = name == "ip4" ? SpfMechanism::kIp4 : SpfMechanism::kIp6;
    return ip_mechanism(rest, name == "ip6", t);
  }
  if (name == "include" || name == "exists") {
    t->mechanism = name == "include" ? SpfMechanism::kInclude : SpfMechanism::kExists;
    if (rest.size() < 2 || rest[0] != ':' || !valid_domain_spec(rest.substr(1))) {
      return bad(*t, "expected ':' and a domain");
    }
    t->domain = std::string(rest.substr(1));
    return absl::OkStatus();
  }
  if (name == "a" || name == "mx" || name == "ptr") {
    t->mechanism = name == "a" ? SpfMechanism::kA : name == "mx" ? SpfMechanism::kMx : SpfMechanism::kPtr;
    if (t->mechanism != SpfMechanism::kPtr) {
      if (absl::Status st = take_dual_cidr(&rest, t); !st.ok()) {
        return st;
      }
    }
    if (rest.empty()) {
      return absl::OkStatus();
    }
    if (rest[0] != ':' || !valid_domain_spec(rest.substr(1))) {
      return bad(*t, "expected ':' and a domain, or a CIDR length");
    }
    t->domain = std::string(rest.substr(1));
    return absl::OkStatus();
  }
  return bad(*t, "unknown mechanism (RFC 7208 5: all, include, a, mx, ptr, ip4, ip6, exists)");
}

// modifier_name: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
bool modifier_name(std::string_view s) {
  if (s.empty() || !alpha(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

absl::Status modifier(std::string_view name, std::string_view value, const SpfTerm& t, SpfRecord* r) {
  if (name == "redirect" || name == "exp") {
    std::string& slot = name == "redirect" ? r->redirect : r->exp;
    if (!slot.empty()) {
      return bad(t, "appears twice (RFC 7208 6)");
    }
    if (!valid_domain_spec(value)) {
      return bad(t, "expected a domain");
    }
    slot = std::string(value);
    return absl::OkStatus();
  }
  bool ends_in_macro = false;
  // Unknown modifiers are ignored, but must still be well formed (RFC 7208 6).
  return macro_string(value, &ends_in_macro) ? absl::OkStatus() : bad(t, "bad macro in the value");
}

}  // namespace

bool SpfRecord::has_all() const {
  for (const SpfTerm& t : terms) {
    if (t.mechanism == SpfMechanism::kAll) {
      return true;
    }
  }
  return false;
}

bool is_spf_record(std::string_view txt) {
  return txt.size() >= 6 && absl::EqualsIgnoreCase(av(txt.substr(0, 6)), "v=spf1") &&
         (txt.size() == 6 || txt[6] == ' ');
}

bool valid_domain_spec(std::string_view spec) {
  bool ends_in_macro = false;
  if (spec.empty() || spec.size() > 1024 || !macro_string(spec, &ends_in_macro)) {
    return false;
  }
  if (ends_in_macro) {
    return true;
  }
  if (spec.back() == '.') {
    spec.remove_suffix(1);
  }
  const size_t dot = spec.rfind('.');
  return dot != std::string_view::npos && toplabel(spec.substr(dot + 1));
}

absl::StatusOr<SpfRecord> parse_spf(std::string_view txt) {
  if (!is_spf_record(txt)) {
    return absl::InvalidArgumentError("does not start with v=spf1");
  }
  SpfRecord r;
  for (absl::string_view piece : absl::StrSplit(av(txt.substr(6)), ' ', absl::SkipEmpty())) {
    SpfTerm t;
    t.text = std::string(piece);
    std::string_view s = sv(piece);
    bool qualified = false;
    if (absl::StrContains("+-~?", s[0])) {
      t.qualifier = static_cast<SpfQualifier>(s[0]);
      s.remove_prefix(1);
      qualified = true;
    }
    const size_t end = std::min(s.find_first_of(":/="), s.size());
    const std::string name = absl::AsciiStrToLower(av(s.substr(0, end)));
    if (end < s.size() && s[end] == '=' && modifier_name(name)) {
      if (qualified) {
        return bad(t, "a modifier takes no qualifier");
      }
      if (absl::Status st = modifier(name, s.substr(end + 1), t, &r); !st.ok()) {
        return st;
      }
      continue;
    }
    if (absl::Status st = mechanism(name, s.substr(end), &t); !st.ok()) {
      return st;
    }
    r.terms.push_back(std::move(t));
  }
  return r;
}

std::string suggest_spf(const std::vector<std::string>& records, const std::vector<IpAddress>& add, bool soft) {
  std::vector<std::string> terms;
  bool has_exp = false;  // a second exp= would make the record a permerror
  auto keep = [&](std::string term) {
    for (const std::string& t : terms) {
      if (absl::EqualsIgnoreCase(t, term)) {
        return;
      }
    }
    terms.push_back(std::move(term));
  };
  for (const std::string& rec : records) {
    for (absl::string_view piece : absl::StrSplit(rec, ' ', absl::SkipEmpty())) {
      std::string term(piece);
      if (is_spf_record(term) && term.size() == 6) {
        continue;  // the v=spf1 itself
      }
      absl::StatusOr<SpfRecord> one = parse_spf(absl::StrCat("v=spf1 ", term));
      if (!one.ok() || one->has_all()) {
        continue;
      }
      if (!one->redirect.empty()) {
        keep(absl::StrCat("include:", one->redirect));
      } else if (!one->exp.empty() && !has_exp) {
        has_exp = true;
        keep(term);
      } else if (!one->terms.empty()) {
        keep(term);
      }
    }
  }
  for (const IpAddress& a : add) {
    keep(absl::StrCat(a.v6 ? "ip6:" : "ip4:", a.to_string()));
  }
  terms.push_back(soft ? "~all" : "-all");
  return absl::StrCat("v=spf1 ", absl::StrJoin(terms, " "));
}

}  // namespace ringmta::ctl

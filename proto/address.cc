// proto/address.cc — RFC 5321 4.1.2 path grammar, RFC 6531 UTF-8 addresses.
#include "proto/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace ringmta::proto {
namespace {

bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// atext of RFC 5322 3.2.3.
bool is_atext(unsigned char c) {
  if (is_alpha(c) || is_digit(c)) {
    return true;
  }
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }


bool valid_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    unsigned value = 0;
    while (i < s.size() && is_digit(static_cast<unsigned char>(s[i])) && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) {
      return false;
    }
    ++parts;
    if (i == s.size()) {
      return parts == 4;
    }
    if (s[i] != '.' || parts == 4) {
      return false;
    }
    ++i;
  }
}

bool valid_ipv6(std::string_view s) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (s.empty() || s.size() >= sizeof(buf)) {
    return false;
  }
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

bool valid_label(std::string_view label, bool utf8) {
  if (label.empty() || label.size() > kMaxLabel || label.front() == '-' ||
      label.back() == '-') {
    return false;
  }
  for (unsigned char c : label) {
    if (!(is_alpha(c) || is_digit(c) || c == '-' || (utf8 && c >= 0x80))) {
      return false;
    }
  }
  return true;
}

// scan_quoted returns the index one past the closing quote of the quoted
// string starting at s[0] == '"', or npos when it is malformed.
size_t scan_quoted(std::string_view s, bool utf8) {
  for (size_t i = 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      return i + 1;
    }
    if (c == '\\') {
      // quoted-pairSMTP: %d92 %d32-126
      if (i + 1 >= s.size()) {
        return std::string_view::npos;
      }
      unsigned char n = static_cast<unsigned char>(s[i + 1]);
      if (n < 32 || n > 126) {
        return std::string_view::npos;
      }
      ++i;
      continue;
    }
    // qtextSMTP: %d32-33 / %d35-91 / %d93-126, plus UTF8-non-ascii.
    bool ok = (c >= 32 && c <= 126) || (utf8 && c >= 0x80);
    if (!ok) {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

bool valid_dot_atom(std::string_view s, bool utf8) {
  if (s.empty() || s.front() == '.' || s.back() == '.') {
    return false;
  }
  char prev = 0;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (prev == '.') {
        return false;
      }
    } else if (!(is_atext(c) || (utf8 && c >= 0x80))) {
      return false;
    }
    prev = ch;
  }
  return true;
}

// strip_source_route drops "@a,@b:" in front of the mailbox; false when the
// route is malformed.
bool strip_source_route(std::string_view* inner, bool utf8) {
  size_t colon = inner->find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view route = inner->substr(0, colon);
  while (!route.empty()) {
    size_t comma = route.find(',');
    std::string_view hop = route.substr(0, comma);
    if (hop.size() < 2 || hop[0] != '@' || hop.size() - 1 > kMaxDomain ||
        hop[1] == '[' || !valid_domain(hop.substr(1), utf8)) {
      return false;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    route.remove_prefix(comma + 1);
    if (route.empty()) {
      return false;  // trailing comma
    }
  }
  inner->remove_prefix(colon + 1);
  return true;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second octet
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) {
        lo = 0xA0;  // overlong
      } else if (c == 0xED) {
        hi = 0x9F;  // surrogates
      }
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) {
        lo = 0x90;  // overlong
      } else if (c == 0xF4) {
        hi = 0x8F;  // above U+10FFFF
      }
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) {
      return false;
    }
    if (p[1] < lo || p[1] > hi) {
      return false;
    }
    for (size_t k = 2; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) {
        return false;
      }
    }
    p += n + 1;
  }
  return true;
}

bool valid_domain(std::string_view domain, bool utf8) {
  if (domain.empty() || domain.size() > kMaxDomain) {
    return false;
  }
  if (domain.front() == '[') {
    if (domain.back() != ']' || domain.size() < 3) {
      return false;
    }
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.size() > 5 && ascii_iequals(literal.substr(0, 5), "IPv6:")) {
      return valid_ipv6(literal.substr(5));
    }
    return valid_ipv4(literal);
  }
  while (true) {
    size_t dot = domain.find('.');
    if (!valid_label(domain.substr(0, dot), utf8)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    domain.remove_prefix(dot + 1);
  }
}

size_t find_path_end(std::string_view text) {
  if (text.empty() || text[0] != '<') {
    return std::string_view::npos;
  }
  bool quoted = false;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

PathStatus parse_path(std::string_view path, const PathOptions& options,
                      Address* out) {
  *out = Address{};
  if (path.size() > kMaxPath) {
    return PathStatus::kTooLong;
  }
  if (path.size() < 2 || path.front() != '<' || path.back() != '>') {
    return PathStatus::kSyntax;
  }
  std::string_view inner = path.substr(1, path.size() - 2);
  if (inner.empty()) {
    out->is_null = true;
    return options.allow_null ? PathStatus::kOk : PathStatus::kSyntax;
  }
  for (char c : inner) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out->has_utf8 = true;
      break;
    }
  }
  if (out->has_utf8) {
    if (!options.smtputf8) {
      return PathStatus::kNeedsSmtpUtf8;
    }
    if (!valid_utf8(inner)) {
      return PathStatus::kSyntax;
    }
  }
  const bool utf8 = options.smtputf8;
  if (inner.front() == '@' && !strip_source_route(&inner, utf8)) {
    return PathStatus::kSyntax;
  }
  if (options.allow_postmaster && ascii_iequals(inner, "postmaster")) {
    out->local = inner;
    out->is_postmaster = true;
    return PathStatus::kOk;
  }
  size_t at;
  if (!inner.empty() && inner.front() == '"') {
    at = scan_quoted(inner, utf8);
    if (at == std::string_view::npos || at >= inner.size() || inner[at] != '@') {
      return PathStatus::kSyntax;
    }
  } else {
    at = inner.find('@');
    if (at == std::string_view::npos || !valid_dot_atom(inner.substr(0, at), utf8)) {
      return PathStatus::kSyntax;
    }
  }
  std::string_view local = inner.substr(0, at);
  std::string_view domain = inner.substr(at + 1);
  if ((local.size() > kMaxLocalPart && !options.long_local) || domain.size() > kMaxDomain) {
    return PathStatus::kTooLong;
  }
  if (local.size() < 1 || !valid_domain(domain, utf8)) {
    return PathStatus::kSyntax;
  }
  out->local = local;
  out->domain = domain;
  return PathStatus::kOk;
}

std::string ascii_lower(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    c = lower(c);
  }
  return s;
}

std::string address_text(const Address& address) {
  if (address.is_null) {
    return {};
  }
  if (address.is_postmaster) {
    return "postmaster";
  }
  std::string s;
  s.reserve(address.local.size() + 1 + address.domain.size());
  s.append(address.local);
  s.push_back('@');
  for (char c : address.domain) {
    s.push_back(lower(c));
  }
  return s;
}

bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if ((!alnum && c != '-' && c != '_') || ++label > 63) {
      return false;
    }
  }
  return label > 0;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace ringmta::proto

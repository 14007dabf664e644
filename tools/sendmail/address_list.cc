// tools/sendmail/address_list.cc — addresses out of header fields
// (address_list.h). One pass splits the value at the commas, colons and
// semicolons that are outside quotes, comments and angle brackets; each
// piece is then one mailbox.
#include "tools/sendmail/address_list.h"

namespace ringmta::sendmail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// The addr-spec of one mailbox: inside its <...> if it has one, else the
// whole text without comments and whitespace (quotes kept: "a b"@c is one
// address).
std::string mailbox_address(std::string_view m) {
  std::string plain;    // the text outside comments
  std::string angle;    // the text inside <...>
  bool in_angle = false, saw_angle = false, in_quote = false;
  int comment = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '\\' && (in_quote || comment > 0) && i + 1 < m.size()) {
      if (comment == 0) (in_angle ? angle : plain).append(m.substr(i, 2));
      ++i;
      continue;
    }
    if (in_quote) {
      (in_angle ? angle : plain) += c;
      if (c == '"') in_quote = false;
      continue;
    }
    if (comment > 0) {
      if (c == '(') ++comment;
      if (c == ')') --comment;
      continue;
    }
    if (c == '(') {
      ++comment;
    } else if (c == '"') {
      in_quote = true;
      (in_angle ? angle : plain) += c;
    } else if (c == '<' && !saw_angle) {
      in_angle = saw_angle = true;
    } else if (c == '>' && in_angle) {
      in_angle = false;
    } else if (in_angle) {
      if (!is_space(c)) angle += c;
    } else if (!is_space(c)) {
      plain += c;
    }
  }
  std::string a = saw_angle ? angle : plain;
  // A source route "@relay1,@relay2:user@domain" (obs-route): the address is after the colon.
  if (!a.empty() && a.front() == '@') {
    size_t colon = a.find(':');
    a = colon == std::string::npos ? std::string() : a.substr(colon + 1);
  }
  return a;
}

}  // namespace

std::vector<std::string> parse_address_list(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  bool in_quote = false, in_angle = false;
  int comment = 0;
  auto take = [&](size_t end) {
    std::string a = mailbox_address(value.substr(start, end - start));
    // A bare word without "@" is an address too (a local user, as
    // Sendmail allows); an empty piece or a lone "<>" is not.
    if (!trim(a).empty()) out.push_back(trim(a));
    start = end + 1;
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && (in_quote || comment > 0)) {
      ++i;
      continue;
    }
    if (in_quote) {
      in_quote = c != '"';
      continue;
    }
    if (comment > 0) {
      comment += c == '(' ? 1 : c == ')' ? -1 : 0;
      continue;
    }
    switch (c) {
      case '"':
        in_quote = true;
        break;
      case '(':
        ++comment;
        break;
      case '<':
        in_angle = true;
        break;
      case '>':
        in_angle = false;
        break;
      case ',':
      case ';':
        if (!in_angle) take(i);
        break;
      case ':':
        // Outside <...> a colon ends a group's display name: drop the name.
        if (!in_angle) start = i + 1;
        break;
      default:
        break;
    }
  }
  take(value.size());
  return out;
}

}  // namespace ringmta::sendmail

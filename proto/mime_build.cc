// proto/mime_build.cc — mime_build.h's message builder and encoders.
#include "proto/mime_build.h"

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "proto/address.h"
#include "proto/header_scan.h"
#include "proto/template.h"

namespace ringmta::proto {
namespace {

constexpr size_t kMaxLine = 998;  // RFC 5322 2.1.1, CRLF excluded
constexpr size_t kQpLine = 76;    // RFC 2045 6.7 (5)
constexpr size_t kMaxToken = 64;
constexpr size_t kMaxBoundaryToken = 60;  // boundary at most 70 (RFC 2046 5.1.1)

absl::Status invalid(std::string msg) { return absl::InvalidArgumentError(msg); }

bool token_ok(std::string_view t, size_t max) {
  if (t.empty() || t.size() > max) {
    return false;
  }
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 32 && c != '\t') || c >= 127) {
      return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// atext_phrase: the display name can go out unquoted (atoms and spaces).
bool atext_phrase(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
          std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

// mailbox checks "Name <addr>" or "addr" and writes it out, the display
// name quoted or encoded as needed; *domain gets the address's domain.
absl::Status mailbox(std::string_view field, std::string_view value, std::string* out,
                     std::string* domain) {
  if (has_crlf(value)) {
    return invalid(std::string(field) + " contains CR or LF");
  }
  value = trim(value);
  std::string_view name, addr = value;
  if (!value.empty() && value.back() == '>') {
    size_t lt = value.rfind('<');
    if (lt == std::string_view::npos) {
      return invalid(std::string(field) + " is not \"Name <address>\" or \"address\"");
    }
    name = trim(value.substr(0, lt));
    addr = value.substr(lt + 1, value.size() - lt - 2);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
  }
  std::string path = "<" + std::string(addr) + ">";
  Address a;
  if (addr.empty() || addr.front() == '@' ||
      parse_path(path, PathOptions{.smtputf8 = true}, &a) != PathStatus::kOk || a.domain.empty()) {
    return invalid(std::string(field) + " has no valid address: \"" + std::string(addr) + "\"");
  }
  *domain = ascii_lower(a.domain);
  if (!name.empty()) {
    if (!printable_ascii(name) || name.find("=?") != std::string_view::npos) {
      out->append(encoded_words(name));
    } else if (atext_phrase(name)) {
      out->append(name);
    } else {
      out->push_back('"');
      for (char c : name) {
        if (c == '"' || c == '\\') {
          out->push_back('\\');
        }
        out->push_back(c);
      }
      out->push_back('"');
    }
    out->append(" <");
    out->append(addr);
    out->append(">");
  } else {
    out->append(addr);
  }
  return absl::OkStatus();
}

bool reserved_header(std::string_view name, bool has_reply_to) {
  for (std::string_view r : {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version"}) {
    if (ascii_iequals(name, r)) {
      return true;
    }
  }
  return istarts_with(name, "Content-") || istarts_with(name, "X-Ringmta-") ||
         (has_reply_to && ascii_iequals(name, "Reply-To"));
}

bool ftext_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (unsigned char c : name) {
    if (c < 33 || c > 126 || c == ':') {
      return false;
    }
  }
  return true;
}

// Body is one part: its text made CRLF and encoded, and its CTE.
struct Body {
  std::string text;
  const char* encoding = "7bit";
};

Body encode_body(std::string_view raw) {
  Body b;
  std::string crlf;
  crlf.reserve(raw.size() + 2);
  append_crlf(raw, &crlf);
  if (crlf.size() < 2 || crlf.compare(crlf.size() - 2, 2, "\r\n") != 0) {
    crlf.append("\r\n");
  }
  if (needs_quoted_printable(crlf)) {
    b.text = quoted_printable(crlf);
    b.encoding = "quoted-printable";
  } else {
    b.text = std::move(crlf);
  }
  return b;
}

void append_part_headers(const char* type, const Body& b, std::string* out) {
  out->append("Content-Type: ");
  out->append(type);
  out->append("; charset=utf-8\r\nContent-Transfer-Encoding: ");
  out->append(b.encoding);
  out->append("\r\n");
}

}  // namespace

bool needs_quoted_printable(std::string_view body) {
  size_t line = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == 0 || c >= 128) {
      return true;
    }
    if (c == '\n') {
      line = 0;
    } else if (c != '\r' && ++line > kMaxLine) {
      return true;
    }
  }
  return false;
}

std::string quoted_printable(std::string_view body) {
  std::string crlf;
  append_crlf(body, &crlf);
  std::string out;
  out.reserve(crlf.size() + crlf.size() / 8);
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t pos = 0;
  while (pos < crlf.size()) {
    size_t end = crlf.find("\r\n", pos);
    const bool has_end = end != std::string::npos;
    if (!has_end) {
      end = crlf.size();
    }
    size_t col = 0;
    for (size_t i = pos; i < end; ++i) {
      unsigned char c = static_cast<unsigned char>(crlf[i]);
      const bool last = i + 1 == end;
      char enc[3];
      size_t n = 1;
      if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
        enc[0] = static_cast<char>(c);
      } else {
        enc[0] = '=';
        enc[1] = kHex[c >> 4];
        enc[2] = kHex[c & 15];
        n = 3;
      }
      // The soft break "=" needs one column; the last token of the line
      // may use the 76th column itself.
      const size_t room = last ? kQpLine : kQpLine - 1;
      if (col + n > room) {
        out.append("=\r\n");
        col = 0;
      }
      out.append(enc, n);
      col += n;
    }
    if (has_end) {
      out.append("\r\n");
    }
    pos = end + 2;
  }
  return out;
}

std::string encoded_words(std::string_view text) {
  // 75 octets: "=?utf-8?B?" (10) + 60 base64 characters + "?=" (2); 60
  // characters carry 45 octets.
  constexpr size_t kChunk = 45;
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t n = std::min(kChunk, text.size() - pos);
    // Back off to a character boundary (not before a continuation octet).
    while (pos + n < text.size() && n > 1 && (static_cast<unsigned char>(text[pos + n]) & 0xC0) == 0x80) {
      --n;
    }
    if (!out.empty()) {
      out.append("\r\n ");
    }
    out.append("=?utf-8?B?");
    out.append(absl::Base64Escape(absl::string_view(text.data() + pos, n)));
    out.append("?=");
    pos += n;
  }
  return out;
}

absl::StatusOr<std::string> build_mime_message(const MessageParts& parts, const MimeOptions& options) {
  if (!token_ok(options.message_id_token, kMaxToken)) {
    return invalid("the Message-ID token must be 1..64 of [A-Za-z0-9._-]");
  }
  if (parts.text_body.empty() && parts.html_body.empty()) {
    return invalid("the message needs a text or an html body");
  }
  const bool multipart = !parts.text_body.empty() && !parts.html_body.empty();
  if (multipart && !token_ok(options.boundary_token, kMaxBoundaryToken)) {
    return invalid("the boundary token must be 1..60 of [A-Za-z0-9._-]");
  }
  std::string out;
  std::string domain, unused;
  out.append("From: ");
  if (absl::Status s = mailbox("From", parts.from, &out, &domain); !s.ok()) {
    return s;
  }
  out.append("\r\n");
  if (parts.reply_to) {
    out.append("Reply-To: ");
    if (absl::Status s = mailbox("Reply-To", *parts.reply_to, &out, &unused); !s.ok()) {
      return s;
    }
    out.append("\r\n");
  }
  if (!options.to.empty()) {
    if (has_crlf(options.to)) {
      return invalid("To contains CR or LF");
    }
    out.append("To: ");
    out.append(options.to);
    out.append("\r\n");
  }
  if (has_crlf(parts.subject)) {
    return invalid("Subject contains CR or LF");
  }
  out.append("Subject: ");
  if (printable_ascii(parts.subject) && parts.subject.find("=?") == std::string::npos &&
      parts.subject.size() + 9 <= kMaxLine) {
    out.append(parts.subject);
  } else {
    out.append(encoded_words(parts.subject));
  }
  out.append("\r\nDate: ");
  out.append(format_rfc5322_date(options.date));
  out.append("\r\nMessage-ID: <");
  out.append(options.message_id_token);
  out.append("@");
  out.append(domain);
  out.append(">\r\nMIME-Version: 1.0\r\n");
  for (const auto& [name, value] : parts.headers) {
    if (!ftext_name(name)) {
      return invalid("header name \"" + name + "\" is not RFC 5322 ftext");
    }
    if (reserved_header(name, parts.reply_to.has_value())) {
      return invalid("header \"" + name + "\" is set by the message builder and cannot be given");
    }
    if (has_crlf(value)) {
      return invalid("header \"" + name + "\" contains CR or LF");
    }
    if (!printable_ascii(value) || name.size() + 2 + value.size() > kMaxLine) {
      return invalid("header \"" + name + "\" must be printable ASCII, at most 998 octets a line");
    }
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  if (!multipart) {
    const bool text = !parts.text_body.empty();
    Body b = encode_body(text ? parts.text_body : parts.html_body);
    append_part_headers(text ? "text/plain" : "text/html", b, &out);
    out.append("\r\n");
    out.append(b.text);
    return out;
  }
  Body text = encode_body(parts.text_body);
  Body html = encode_body(parts.html_body);
  std::string boundary = "=_" + std::string(options.boundary_token);
  for (int n = 1; text.text.find("--" + boundary) != std::string::npos ||
                  html.text.find("--" + boundary) != std::string::npos;
       ++n) {
    boundary = "=_" + std::string(options.boundary_token) + "." + std::to_string(n);
  }
  out.append("Content-Type: multipart/alternative; boundary=\"");
  out.append(boundary);
  out.append("\"\r\n\r\n");
  // The CRLF before a delimiter belongs to the delimiter (RFC 2046
  // 5.1.1), so each part gets one more: its last line end survives.
  out.append("--" + boundary + "\r\n");
  append_part_headers("text/plain", text, &out);
  out.append("\r\n" + text.text + "\r\n--" + boundary + "\r\n");
  append_part_headers("text/html", html, &out);
  out.append("\r\n" + html.text + "\r\n--" + boundary + "--\r\n");
  return out;
}

}  // namespace ringmta::proto

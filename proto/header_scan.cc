// proto/header_scan.cc — header section scan and trace headers (RFC 5321
// 4.4, RFC 5322 3.3 and 3.6).
#include "proto/header_scan.h"

#include <algorithm>

#include "proto/reply.h"

namespace ringmta::proto {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

bool iequals(std::string_view a, std::string_view b) {
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

// is_token: what we print of the engine's TLS strings. wolfSSL names are
// short tokens ("TLSv1.3", "TLS_AES_256_GCM_SHA384"); anything else is
// left out rather than risk breaking the header.
bool is_token(std::string_view text) {
  if (text.empty() || text.size() > 64) {
    return false;
  }
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 127 || c == '(' || c == ')' || c == '\\') {
      return false;
    }
  }
  return true;
}

// append_comment_text appends `text` as the inside of an RFC 5322 comment:
// ( ) and \ become quoted-pairs, so that a user name cannot end the
// comment early. The session only authenticates names without controls.
void append_comment_text(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '(' || c == ')' || c == '\\') {
      out->push_back('\\');
    }
    out->push_back(c);
  }
}

// control_value: the unfolded, trimmed value of a field spanning `field`
// (name included), or "" when it is too long or not printable ASCII.
std::string control_value(std::string_view field) {
  std::string v;
  for (char c : field.substr(field.find(':') + 1)) {
    if (c == '\r' || c == '\n') {
      continue;  // unfold
    }
    if (static_cast<unsigned char>(c) < 32 && c != '\t') {
      return {};
    }
    if (static_cast<unsigned char>(c) >= 127) {
      return {};
    }
    v.push_back(c == '\t' ? ' ' : c);
  }
  size_t b = v.find_first_not_of(' ');
  if (b == std::string::npos) {
    return {};
  }
  v = v.substr(b, v.find_last_not_of(' ') - b + 1);
  return v.size() <= kControlValueMax ? v : std::string();
}

}  // namespace

void strip_ranges(const std::vector<std::pair<size_t, size_t>>& ranges, std::string* body) {
  if (ranges.empty()) {
    return;
  }
  // One pass, moving each kept stretch down once.
  size_t out = ranges.front().first;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const size_t keep_from = ranges[i].second;
    const size_t keep_to = i + 1 < ranges.size() ? ranges[i + 1].first : body->size();
    // out < keep_from: a forward copy never reads what it overwrote.
    std::copy(body->begin() + static_cast<ptrdiff_t>(keep_from), body->begin() + static_cast<ptrdiff_t>(keep_to),
              body->begin() + static_cast<ptrdiff_t>(out));
    out += keep_to - keep_from;
  }
  body->resize(out);
}

std::string_view header_field_name(std::string_view line) {
  size_t i = 0;
  // ftext of RFC 5322 3.6.8: printable ASCII except ':'.
  while (i < line.size() && line[i] > 32 && line[i] < 127 && line[i] != ':') {
    ++i;
  }
  std::string_view name = line.substr(0, i);
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    ++i;
  }
  if (name.empty() || i >= line.size() || line[i] != ':') {
    return {};
  }
  return name;
}

HeaderScan scan_headers(std::string_view body) {
  HeaderScan scan;
  size_t pos = 0;
  // The value of the field being read, when it is one we keep; a control
  // field is also cut out of the content (strip).
  std::string* value = nullptr;
  bool strip = false;
  size_t value_begin = 0;
  auto close_value = [&](size_t end) {
    if (value != nullptr) {
      if (strip) {
        scan.control.back().second = end;
      }
      *value = control_value(body.substr(value_begin, end - value_begin));
      value = nullptr;
    }
  };
  while (pos < body.size()) {
    size_t end = body.find("\r\n", pos);
    std::string_view line = body.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (line.empty()) {
      break;  // the empty line that ends the header section
    }
    if (line[0] != ' ' && line[0] != '\t') {
      close_value(pos);
      std::string_view name = header_field_name(line);
      if (name.empty()) {
        break;
      }
      strip = false;
      if (iequals(name, "Received")) {
        ++scan.received;
      } else if (iequals(name, "Date")) {
        scan.has_date = true;
      } else if (iequals(name, "Message-ID")) {
        scan.has_message_id = true;
      } else if (iequals(name, "List-Unsubscribe")) {
        scan.has_list_unsubscribe = true;
      } else if (iequals(name, "List-Unsubscribe-Post")) {
        value = &scan.list_unsubscribe_post;
      } else if (iequals(name, "X-Ringmta-Pool")) {
        value = &scan.pool;
        strip = true;
      } else if (iequals(name, "X-Ringmta-Tenant")) {
        value = &scan.tenant;
        strip = true;
      } else if (iequals(name, "X-Ringmta-Campaign")) {
        value = &scan.campaign;
        strip = true;
      }
      value_begin = pos;
      if (strip) {
        scan.control.emplace_back(pos, pos);
      }
    }
    if (end == std::string_view::npos) {
      pos = body.size();
      break;
    }
    pos = end + 2;
  }
  close_value(pos);
  return scan;
}

std::string format_rfc5322_date(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

void append_trace_headers(const TraceInfo& info, const HeaderScan& scan,
                          std::string* out) {
  std::string date = format_rfc5322_date(info.now);
  // Folded the way Postfix folds: each clause on its own line keeps every
  // line far below 998 octets whatever the HELO argument (<= 510) holds.
  // The bracketed part is an RFC 5321 address literal: IPv6 takes its tag.
  std::string_view tag =
      info.client_addr.find(':') != std::string_view::npos ? std::string_view("IPv6:") : std::string_view();
  if (info.client_addr.empty()) {
    out->append("Received: (ringmta pickup");
    if (!info.local_origin.empty()) {
      out->append(", ");
      append_comment_text(info.local_origin, out);
    }
    out->append(")\r\n");
  } else {
    append_pieces(out, {"Received: from ", info.helo, " (", info.client_addr, " [", tag,
                    info.client_addr, "])\r\n"});
  }
  if (is_token(info.tls_version) && is_token(info.tls_cipher)) {
    append_pieces(out, {"\t(using ", info.tls_version, " with cipher ", info.tls_cipher, ")\r\n"});
  }
  if (!info.auth_user.empty()) {
    out->append("\t(Authenticated sender: ");
    append_comment_text(info.auth_user, out);
    out->append(")\r\n");
  }
  append_pieces(out, {"\tby ", info.hostname, " (ringmta) with ", info.protocol, " id ",
                      info.queue_id});
  if (!info.recipient.empty()) {
    append_pieces(out, {"\r\n\tfor <", info.recipient, ">; ", date, "\r\n"});
  } else {
    append_pieces(out, {";\r\n\t", date, "\r\n"});
  }
  if (!scan.has_date) {
    append_pieces(out, {"Date: ", date, "\r\n"});
  }
  if (!scan.has_message_id) {
    append_pieces(out, {"Message-ID: <", info.queue_id, "@", info.hostname, ">\r\n"});
  }
}

}  // namespace ringmta::proto

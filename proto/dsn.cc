// proto/dsn.cc — RFC 3464 delivery status notifications.
#include "proto/dsn.h"

#include <algorithm>
#include <cstdint>

#include "proto/header_scan.h"
#include "proto/reply.h"

namespace ringmta::proto {
namespace {

constexpr size_t kFoldAt = 78;     // RFC 5322 2.1.1 SHOULD
constexpr size_t kMaxLine = 998;   // RFC 5322 2.1.1 MUST
constexpr size_t kMaxBoundary = 70;  // RFC 2046 5.1.1

// fnv1a is a stable hash: the boundary and Message-ID depend only on the
// input, so tests can compare whole messages.
uint64_t fnv1a(std::string_view text, uint64_t hash = 14695981039346656037ull) {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

void append_hex(std::string* out, uint64_t value) {
  static const char kDigits[] = "0123456789ABCDEF";
  for (int shift = 60; shift >= 0; shift -= 4) {
    out->push_back(kDigits[(value >> shift) & 0xF]);
  }
}

// cat joins pieces (GCC 12 warns falsely on literal + std::string chains).
std::string cat(std::initializer_list<std::string_view> pieces) {
  std::string out;
  append_pieces(&out, pieces);
  return out;
}

// clean turns control characters (CR and LF included) into spaces: values
// that came from a remote server or a client must not add lines or fields.
std::string clean(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      c = ' ';
    }
  }
  return out;
}

// append_folded appends `line` and CRLF, folded before a space so that lines
// stay near kFoldAt octets, and hard-broken (CRLF + space) where a run
// without spaces would pass kMaxLine.
void append_folded(std::string* out, std::string_view line) {
  while (line.size() > kFoldAt) {
    size_t cut = line.rfind(' ', kFoldAt);
    if (cut == 0 || cut == std::string_view::npos) {
      cut = line.find(' ', 1);
    }
    if (cut == std::string_view::npos || cut > kMaxLine) {
      cut = kMaxLine - 1;
      append_pieces(out, {line.substr(0, cut), "\r\n "});
      line.remove_prefix(cut);
      continue;
    }
    append_pieces(out, {line.substr(0, cut), "\r\n"});
    line.remove_prefix(cut);  // the space starts the continuation line
  }
  append_pieces(out, {line, "\r\n"});
}

void append_field(std::string* out, std::string_view name, std::string_view value) {
  std::string line(name);
  append_pieces(&line, {": ", value});
  append_folded(out, line);
}

// append_lines copies `text` with CRLF line ends, breaking lines over
// kMaxLine with CRLF + space (a header continuation).
void append_lines(std::string* out, std::string_view text) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    while (line.size() > kMaxLine) {
      append_pieces(out, {line.substr(0, kMaxLine - 1), "\r\n "});
      line.remove_prefix(kMaxLine - 1);
    }
    append_pieces(out, {line, "\r\n"});
  }
}

bool is_field_line(std::string_view line) {
  if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
    return true;  // continuation
  }
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return false;
  }
  for (char c : line.substr(0, colon)) {
    if (c < 33 || c > 126) {
      return false;
    }
  }
  return true;
}

// after_type strips an RFC 3464 type prefix: "dns; mx.example" → "mx.example".
std::string_view after_type(std::string_view value) {
  size_t semi = value.find(';');
  if (semi == std::string_view::npos) {
    return value;
  }
  value.remove_prefix(semi + 1);
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  return value;
}

std::string boundary_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
    if (ok) {
      out.push_back(c);
    }
  }
  return out;
}

std::string notification_text(const DsnInput& in, bool delayed_only) {
  std::string text;
  append_pieces(&text, {"This is the mail system at host ", clean(in.reporting_mta), ".\r\n\r\n"});
  if (delayed_only) {
    text.append(
        "####### THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\r\n\r\n"
        "Your message could not be delivered yet to the recipients below.\r\n"
        "The mail system will keep trying; you will be told if it gives up.\r\n");
  } else {
    text.append(
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients. Its headers are attached below.\r\n\r\n"
        "For further assistance, please send mail to postmaster.\r\n\r\n"
        "If you do so, please include this problem report.\r\n");
  }
  text.append("\r\n                   The mail system\r\n\r\n");
  for (const DsnRecipient& r : in.recipients) {
    std::string line = cat({"<", clean(r.address), ">: "});
    std::string_view host = after_type(r.remote_mta);
    if (!host.empty()) {
      append_pieces(&line, {"host ", clean(host), " said: "});
    }
    if (!r.diagnostic.empty()) {
      line.append(clean(after_type(r.diagnostic)));
    } else {
      append_pieces(&line, {"delivery ", r.action == "delayed" ? "delayed" : "failed",
                            " (status ", clean(r.status), ")"});
    }
    if (r.action == "delayed") {
      line.append(" (still being retried)");
    }
    append_folded(&text, line);
    if (!r.bounce_class.empty()) {
      append_pieces(&text, {"    (bounce class: ", clean(r.bounce_class), ")\r\n"});
    }
    text.append("\r\n");
  }
  return text;
}

std::string delivery_status(const DsnInput& in, std::string_view date) {
  std::string text;
  append_field(&text, "Reporting-MTA", cat({"dns; ", clean(in.reporting_mta)}));
  append_field(&text, "X-Ringmta-Queue-ID", clean(in.original_queue_id));
  append_field(&text, "X-Ringmta-Sender", cat({"rfc822; ", clean(in.original_sender)}));
  append_field(&text, "Arrival-Date", format_rfc5322_date(in.arrival));
  for (const DsnRecipient& r : in.recipients) {
    text.append("\r\n");
    // RFC 6533 3.2: an address with UTF-8 is typed "utf-8", not "rfc822".
    std::string_view type = dsn_has_8bit(r.address) ? "utf-8; " : "rfc822; ";
    append_field(&text, "Final-Recipient", cat({type, clean(r.address)}));
    append_field(&text, "Action", clean(r.action));
    append_field(&text, "Status", clean(r.status));
    if (!r.remote_mta.empty()) {
      append_field(&text, "Remote-MTA", clean(r.remote_mta));
    }
    if (!r.diagnostic.empty()) {
      append_field(&text, "Diagnostic-Code", clean(r.diagnostic));
    }
    append_field(&text, "Last-Attempt-Date", date);
    if (!r.bounce_class.empty()) {
      append_field(&text, "X-Ringmta-Bounce-Class", clean(r.bounce_class));
    }
  }
  return text;
}

}  // namespace

bool dsn_allowed(std::string_view original_sender) { return !original_sender.empty(); }

bool dsn_has_8bit(std::string_view content) {
  for (char c : content) {
    if (static_cast<unsigned char>(c) > 127) {
      return true;
    }
  }
  return false;
}

std::string_view original_header_section(std::string_view content, size_t limit) {
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    size_t next = end == std::string_view::npos ? content.size() : end + 1;
    std::string_view line = content.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.empty() || !is_field_line(line) || next > limit) {
      break;
    }
    pos = next;
  }
  return content.substr(0, pos);
}

std::string build_dsn(const DsnInput& in) {
  bool delayed_only = !in.recipients.empty();
  for (const DsnRecipient& r : in.recipients) {
    delayed_only = delayed_only && r.action == "delayed";
  }
  const std::string date = format_rfc5322_date(in.now);
  const std::string mta = clean(in.reporting_mta);
  const std::string part1 = notification_text(in, delayed_only);
  const std::string part2 = delivery_status(in, date);
  std::string part3;
  append_lines(&part3, original_header_section(in.original_content, kMaxReturnedHeaders));

  uint64_t hash = fnv1a(in.boundary_seed, fnv1a(in.original_queue_id));
  hash = fnv1a(date, hash);
  std::string id;
  append_hex(&id, hash);
  // The returned headers are the sender's own text: make sure no part can
  // contain the delimiter (RFC 2046 5.1.1).
  std::string boundary;
  for (uint64_t attempt = 0; attempt < 1000; ++attempt) {
    boundary = boundary_safe(in.original_queue_id).substr(0, 24);
    boundary.push_back('.');
    append_hex(&boundary, hash + attempt);
    append_pieces(&boundary, {"/", boundary_safe(mta)});
    boundary.resize(std::min(boundary.size(), kMaxBoundary));
    const std::string delimiter = cat({"--", boundary});
    if (part1.find(delimiter) == std::string::npos && part2.find(delimiter) == std::string::npos &&
        part3.find(delimiter) == std::string::npos) {
      break;
    }
  }

  std::string out;
  out.reserve(part1.size() + part2.size() + part3.size() + 1024);
  append_field(&out, "From", cat({"MAILER-DAEMON@", mta, " (Mail Delivery System)"}));
  append_field(&out, "To", cat({"<", clean(in.original_sender), ">"}));
  append_field(&out, "Subject", delayed_only ? "Delayed Mail (still being retried)"
                                             : "Undelivered Mail Returned to Sender");
  append_field(&out, "Date", date);
  append_field(&out, "Message-ID", cat({"<", boundary_safe(in.original_queue_id), ".", id, ".DSN@",
                                           mta, ">"}));
  append_field(&out, "MIME-Version", "1.0");
  append_pieces(&out, {"Content-Type: multipart/report; report-type=delivery-status;\r\n"
                       "\tboundary=\"", boundary, "\"\r\n"});
  append_field(&out, "Auto-Submitted", "auto-replied");
  if (dsn_has_8bit(part1) || dsn_has_8bit(part2) || dsn_has_8bit(part3)) {
    append_field(&out, "Content-Transfer-Encoding", "8bit");
  }
  out.append("\r\nThis is a MIME-encapsulated message.\r\n\r\n");
  append_pieces(&out, {"--", boundary, "\r\n"
                       "Content-Description: Notification\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n\r\n", part1,
                       "\r\n--", boundary, "\r\n"
                       "Content-Description: Delivery report\r\n"
                       "Content-Type: message/delivery-status\r\n\r\n", part2,
                       "\r\n--", boundary, "\r\n"
                       "Content-Description: Undelivered Message Headers\r\n"
                       "Content-Type: text/rfc822-headers\r\n\r\n", part3,
                       "\r\n--", boundary, "--\r\n"});
  return out;
}

}  // namespace ringmta::proto

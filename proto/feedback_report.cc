// proto/feedback_report.cc — finding a report's parts (mime_read.h reads
// the MIME) and reading the fields of RFC 3464, RFC 5965 and the returned
// message's header section.
#include "proto/feedback_report.h"

#include <algorithm>
#include <utility>

#include "proto/address.h"
#include "proto/header_scan.h"
#include "proto/mime_read.h"

namespace ringmta::proto {
namespace {

constexpr size_t kMaxDepthCap = 64;

// Part: a body part with what its headers say of it.
struct Part {
  MimeEntity entity;
  std::string type;  // lower case; text/plain when unsaid (RFC 2045 5.2)
  std::string_view content_type;
  std::string_view transfer_encoding;
};

Part read_part(std::string_view text) {
  Part p;
  p.entity = split_entity(text);
  const MimeHeaders h = read_mime_headers(p.entity.headers);
  p.content_type = h.content_type;
  p.transfer_encoding = h.transfer_encoding;
  p.type = media_type(h.content_type);
  if (p.type.empty()) {
    p.type = "text/plain";
  }
  return p;
}

bool is_multipart(const Part& p) { return p.type.starts_with("multipart/"); }

bool is_report_part(const Part& p) {
  return p.type == "message/delivery-status" || p.type == "message/global-delivery-status" ||
         p.type == "message/feedback-report";
}

bool is_returned_part(const Part& p) {
  return p.type == "message/rfc822" || p.type == "message/global" || p.type == "text/rfc822-headers" ||
         p.type == "message/global-headers";
}

struct Found {
  Part report;
  Part returned;
  bool has_returned = false;
};

// Walk: what the search has used of the limits and seen on its way, for
// why_not when it finds nothing.
struct Walk {
  size_t max_depth = 0;
  size_t parts_left = 0;
  bool out_of_parts = false;
  bool too_deep = false;
  bool saw_report = false;
  std::string report_type;  // of the first multipart/report
};

// find_report searches the multipart `m` (nested `level` deep, the
// message's own being 1) for a report part: among its own parts first,
// then depth first in the multiparts among them.
bool find_report(const Part& m, size_t level, Walk* w, Found* found) {
  if (level > w->max_depth) {
    w->too_deep = true;
    return false;
  }
  if (m.type == "multipart/report" && !w->saw_report) {
    w->saw_report = true;
    w->report_type = ascii_lower(media_param(m.content_type, "report-type", 64));
  }
  const std::string boundary = media_param(m.content_type, "boundary", kMaxBoundary);
  std::vector<std::string_view> texts;
  if (split_multipart(m.entity.body, boundary, w->parts_left, &texts).truncated) {
    w->out_of_parts = true;
  }
  w->parts_left -= texts.size();
  std::vector<Part> parts;
  parts.reserve(texts.size());
  for (std::string_view t : texts) {
    parts.push_back(read_part(t));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!is_report_part(parts[i])) {
      continue;
    }
    found->report = std::move(parts[i]);
    // RFC 6522 puts the returned message after the report; take one
    // before it only when there is none after.
    for (size_t pass = 0; pass < 2 && !found->has_returned; ++pass) {
      const size_t from = pass == 0 ? i + 1 : 0;
      const size_t to = pass == 0 ? parts.size() : i;
      for (size_t j = from; j < to; ++j) {
        if (is_returned_part(parts[j])) {
          found->returned = std::move(parts[j]);
          found->has_returned = true;
          break;
        }
      }
    }
    return true;
  }
  for (const Part& p : parts) {
    if (is_multipart(p) && find_report(p, level + 1, w, found)) {
      return true;
    }
  }
  return false;
}

std::string_view why_not_found(const Walk& w) {
  if (w.out_of_parts) {
    return "too many parts";
  }
  if (w.saw_report) {
    if (w.report_type == "delivery-status") {
      return "no delivery-status part";
    }
    if (w.report_type == "feedback-report") {
      return "no feedback-report part";
    }
    if (!w.report_type.empty()) {
      return "unsupported report-type";
    }
  }
  return w.too_deep ? "nested too deeply" : "no report part";
}

// strip_type returns what follows an RFC 3464 type ("rfc822;", "dns;",
// "smtp;", "utf-8;", "X-Postfix;"), or `raw` when it starts with none.
std::string_view strip_type(std::string_view raw) {
  const size_t semi = raw.find(';');
  if (semi == std::string_view::npos) {
    return raw;
  }
  std::string_view type = raw.substr(0, semi);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) {
    type.remove_prefix(1);
  }
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  if (type.empty()) {
    return raw;
  }
  for (char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) {
      return raw;  // "550 5.1.1 no; such user": no type, all of it is the value
    }
  }
  return raw.substr(semi + 1);
}

// address_value: the address of an RFC 3464 / RFC 5965 address field,
// without its type, brackets or a trailing comment; "" when longer than
// `limit` (a cut address would name someone else).
std::string address_value(std::string_view raw, size_t limit) {
  bool cut = false;
  std::string v = unfold_value(strip_type(raw), limit, &cut);
  if (cut) {
    return {};
  }
  const size_t lt = v.find('<');
  if (lt != std::string::npos) {
    const size_t gt = v.find('>', lt);
    if (gt == std::string::npos) {
      return {};
    }
    v = unfold_value(std::string_view(v).substr(lt + 1, gt - lt - 1), limit);
  } else if (const size_t comment = v.find(" ("); comment != std::string::npos) {
    v.resize(comment);
  }
  return v;
}

std::string typed_text(std::string_view raw, size_t limit) { return unfold_value(strip_type(raw), limit); }

// keyword: the leading word of a value, lower case ("Failed (bad)" gives
// "failed").
std::string keyword(std::string_view raw, size_t limit) {
  std::string v = unfold_value(raw, limit);
  size_t n = 0;
  while (n < v.size() && ((v[n] >= 'a' && v[n] <= 'z') || (v[n] >= 'A' && v[n] <= 'Z') ||
                          (v[n] >= '0' && v[n] <= '9') || v[n] == '-' || v[n] == '_')) {
    ++n;
  }
  return ascii_lower(std::string_view(v).substr(0, n));
}

// status_code: the leading RFC 3463 code ("5.1.1 (unknown)" gives
// "5.1.1"), or "" when the value does not start with one.
std::string status_code(std::string_view raw) {
  const std::string v = unfold_value(raw, 64);
  if (v.size() < 5 || (v[0] != '2' && v[0] != '4' && v[0] != '5') || v[1] != '.') {
    return {};
  }
  size_t i = 2;
  for (int field = 0; field < 2; ++field) {
    const size_t begin = i;
    while (i < v.size() && i - begin < 3 && v[i] >= '0' && v[i] <= '9') {
      ++i;
    }
    if (i == begin) {
      return {};
    }
    if (field == 0) {
      if (i >= v.size() || v[i] != '.') {
        return {};
      }
      ++i;
    }
  }
  return v.substr(0, i);
}

// first_address returns the first address of an address list (RFC 5322
// 3.4): `"Name" <a@b>, c@d` gives a@b, `a@b (Name)` gives a@b; groups are
// looked into; "" when there is none, or it is longer than `limit`.
std::string first_address(std::string_view raw, size_t limit) {
  std::string cur;  // the mailbox so far, outside comments and brackets
  bool overflow = false;
  bool at = false;
  auto put = [&](char c) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      return;
    }
    if (cur.size() < limit) {
      cur.push_back(c);
    } else {
      overflow = true;
    }
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '(') {
      size_t depth = 0;  // skip the comment, nested ones too
      for (; i < raw.size(); ++i) {
        if (raw[i] == '\\') {
          ++i;
        } else if (raw[i] == '(') {
          ++depth;
        } else if (raw[i] == ')' && --depth == 0) {
          break;
        }
      }
    } else if (c == '"') {
      put(c);
      for (++i; i < raw.size() && raw[i] != '"'; ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) {
          put(raw[i]);
          ++i;
        }
        put(raw[i]);
      }
      put('"');
    } else if (c == '<') {
      const size_t gt = raw.find('>', i);
      if (gt == std::string_view::npos) {
        return {};
      }
      // An obsolete source route (<@relay:a@b>) goes (RFC 5322 4.4).
      std::string_view inside = raw.substr(i + 1, gt - i - 1);
      if (const size_t colon = inside.find(':');
          !inside.empty() && inside.front() == '@' && colon != std::string_view::npos) {
        inside.remove_prefix(colon + 1);
      }
      bool cut = false;
      std::string a = unfold_value(inside, limit, &cut);
      const bool address = !cut && a.find('@') != std::string::npos && a.find(' ') == std::string::npos;
      return address ? a : std::string();
    } else if (c == ',' || c == ';' || c == ':') {
      // The end of a mailbox without brackets, or a group's name.
      if (c != ':' && at) {
        break;
      }
      cur.clear();
      at = false;
      overflow = false;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      at = at || c == '@';
      put(c);
    }
  }
  return at && !overflow ? cur : std::string();
}

// message_id: a Message-ID's id without its <>.
std::string message_id(std::string_view raw, size_t limit) {
  std::string v = unfold_value(raw, limit);
  const size_t lt = v.find('<');
  const size_t gt = lt == std::string::npos ? lt : v.find('>', lt);
  return gt == std::string::npos ? v : v.substr(lt + 1, gt - lt - 1);
}

void read_delivery_status(std::string_view body, const FeedbackLimits& limits, FeedbackReport* r) {
  const size_t max = limits.max_field;
  std::string_view block;
  while (next_field_block(&body, &block)) {
    // The first block holds the per-message fields (RFC 3464 2.2), the
    // others one recipient each; a generator that leaves the first out
    // still gets its recipients read.
    ReportedRecipient rc;
    HeaderField f;
    while (next_header_field(&block, &f)) {
      const std::string_view n = f.name;
      if (r->reporting_mta.empty() && ascii_iequals(n, "Reporting-MTA")) {
        r->reporting_mta = typed_text(f.value, max);
      } else if (r->arrival_date.empty() && ascii_iequals(n, "Arrival-Date")) {
        r->arrival_date = unfold_value(f.value, max);
      } else if (rc.final_recipient.empty() && ascii_iequals(n, "Final-Recipient")) {
        rc.final_recipient = address_value(f.value, max);
      } else if (rc.original_recipient.empty() && ascii_iequals(n, "Original-Recipient")) {
        rc.original_recipient = address_value(f.value, max);
      } else if (rc.action.empty() && ascii_iequals(n, "Action")) {
        rc.action = keyword(f.value, max);
      } else if (rc.status.empty() && ascii_iequals(n, "Status")) {
        rc.status = status_code(f.value);
      } else if (rc.diagnostic.empty() && ascii_iequals(n, "Diagnostic-Code")) {
        rc.diagnostic = typed_text(f.value, max);
      } else if (rc.remote_mta.empty() && ascii_iequals(n, "Remote-MTA")) {
        rc.remote_mta = typed_text(f.value, max);
      }
    }
    if (rc.final_recipient.empty()) {
      continue;
    }
    if (r->recipients.size() >= limits.max_recipients) {
      return;
    }
    r->recipients.push_back(std::move(rc));
  }
}

void read_feedback(std::string_view body, const FeedbackLimits& limits, FeedbackReport* r) {
  const size_t max = limits.max_field;
  std::string received_date;
  std::string_view block;
  while (next_field_block(&body, &block)) {
    HeaderField f;
    while (next_header_field(&block, &f)) {
      const std::string_view n = f.name;
      if (r->feedback_type.empty() && ascii_iequals(n, "Feedback-Type")) {
        r->feedback_type = keyword(f.value, max);
      } else if (r->user_agent.empty() && ascii_iequals(n, "User-Agent")) {
        r->user_agent = unfold_value(f.value, max);
      } else if (r->source_ip.empty() && ascii_iequals(n, "Source-IP")) {
        r->source_ip = unfold_value(f.value, max);
      } else if (r->arrival_date.empty() && ascii_iequals(n, "Arrival-Date")) {
        r->arrival_date = unfold_value(f.value, max);
      } else if (received_date.empty() && ascii_iequals(n, "Received-Date")) {
        received_date = unfold_value(f.value, max);
      } else if (r->reported_domain.empty() && ascii_iequals(n, "Reported-Domain")) {
        r->reported_domain = unfold_value(f.value, max);
      } else if (r->original_rcpt_to.empty() && ascii_iequals(n, "Original-Rcpt-To")) {
        r->original_rcpt_to = address_value(f.value, max);
      } else if (r->original_mail_from.empty() && ascii_iequals(n, "Original-Mail-From")) {
        r->original_mail_from = address_value(f.value, max);
      } else if (r->reporting_mta.empty() && ascii_iequals(n, "Reporting-MTA")) {
        r->reporting_mta = typed_text(f.value, max);
      }
    }
  }
  // RFC 5965 3.1 names Arrival-Date; Received-Date is its older name.
  if (r->arrival_date.empty()) {
    r->arrival_date = std::move(received_date);
  }
}

void read_returned(std::string_view section, const FeedbackLimits& limits, ReturnedHeaders* h) {
  const size_t max = limits.max_field;
  HeaderField f;
  while (next_header_field(&section, &f)) {
    const std::string_view n = f.name;
    if (h->to.empty() && ascii_iequals(n, "To")) {
      h->to = first_address(f.value, max);
    } else if (h->from.empty() && ascii_iequals(n, "From")) {
      h->from = first_address(f.value, max);
    } else if (h->message_id.empty() && ascii_iequals(n, "Message-ID")) {
      h->message_id = message_id(f.value, max);
    } else if (h->feedback_id.empty() && ascii_iequals(n, "Feedback-ID")) {
      h->feedback_id = unfold_value(f.value, max);
    } else if (h->ringmta_ref.empty() && ascii_iequals(n, "X-Ringmta-Ref")) {
      h->ringmta_ref = unfold_value(f.value, max);
    } else if (h->return_path.empty() && ascii_iequals(n, "Return-Path")) {
      h->return_path = address_value(f.value, max);
    }
  }
}

}  // namespace

FeedbackReport parse_feedback_report(std::string_view message, const FeedbackLimits& limits) {
  FeedbackReport r;
  // A message saved from an mbox starts with its "From " line (which is
  // not the obsolete field form "From :").
  if (message.starts_with("From ")) {
    const size_t nl = message.find('\n');
    if (header_field_name(message.substr(0, nl)).empty()) {
      message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
    }
  }
  const Part top = read_part(message);
  if (!is_multipart(top)) {
    r.why_not = "not multipart/report";
    return r;
  }
  if (media_param(top.content_type, "boundary", kMaxBoundary).empty()) {
    r.why_not = "no boundary";
    return r;
  }
  // find_report recurses once per level: whatever the caller asks, the
  // stack stays small.
  Walk w{.max_depth = std::min(limits.max_depth, kMaxDepthCap), .parts_left = limits.max_parts};
  Found found;
  if (!find_report(top, 1, &w, &found)) {
    r.why_not = why_not_found(w);
    return r;
  }
  std::string storage;
  std::string_view body =
      decode_body(found.report.transfer_encoding, found.report.entity.body, limits.max_decoded, &storage);
  if (found.report.type == "message/feedback-report") {
    r.kind = ReportKind::kFeedback;
    read_feedback(body, limits, &r);
  } else {
    r.kind = ReportKind::kDeliveryStatus;
    read_delivery_status(body, limits, &r);
  }
  if (found.has_returned) {
    body = decode_body(found.returned.transfer_encoding, found.returned.entity.body, limits.max_decoded,
                       &storage);
    // message/rfc822: a whole message; text/rfc822-headers: the header
    // section alone. Either way only the header section is read.
    read_returned(split_entity(body).headers, limits, &r.returned);
  }
  return r;
}

std::string_view report_kind_name(ReportKind kind) {
  switch (kind) {
    case ReportKind::kNone:
      return "none";
    case ReportKind::kDeliveryStatus:
      return "delivery-status";
    case ReportKind::kFeedback:
      return "feedback";
  }
  return "none";
}

}  // namespace ringmta::proto

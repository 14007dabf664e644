// proto/feedback_fields.cc — the fields of RFC 3464 delivery-status and
// RFC 5965 feedback-report parts, and the returned message's header
// section: values unfolded, types and brackets taken off, each bounded.
#include "proto/feedback_fields.h"

#include <utility>

#include "proto/address.h"
#include "proto/mime_read.h"

namespace ringmta::proto {
namespace {

// strip_type returns what follows an RFC 3464 type ("rfc822;", "dns;",
// "smtp;", "utf-8;", "X-Postfix;"), or `raw` when it starts with none.
std::string_view strip_type(std::string_view raw) {
  const size_t semi = raw.find(';');
  if (semi == std::string_view::npos) {
    return raw;
  }
  // The raw value may be folded before the type, or between it and ';'.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::string_view type = raw.substr(0, semi);
  while (!type.empty() && space(type.front())) {
    type.remove_prefix(1);
  }
  while (!type.empty() && space(type.back())) {
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

}  // namespace

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

}  // namespace ringmta::proto

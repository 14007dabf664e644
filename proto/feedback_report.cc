// proto/feedback_report.cc — finding a report's parts (mime_read.h reads
// the MIME, mime_decode.h undoes transfer encodings) and handing them to
// the field readers (feedback_fields.h).
#include "proto/feedback_report.h"

#include <algorithm>
#include <utility>

#include "proto/address.h"
#include "proto/feedback_fields.h"
#include "proto/header_scan.h"
#include "proto/mime_decode.h"
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

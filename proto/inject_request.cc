// proto/inject_request.cc — inject_request.h's parser, on simdjson's
// On-Demand API with error codes (no exceptions: the engine's shards
// call this): the recipients, the top-level keys, and the entry points.
// The JSON values and the content are inject_content.cc's.
#include "proto/inject_request.h"

#include "proto/address.h"
#include "proto/header_scan.h"
#include "proto/inject_parser.h"

namespace ringmta::proto {
namespace inject_internal {

absl::Status Parser::recipient(od::value& v, size_t index, InjectRequest* out) {
  const std::string path = cat("recipients[", index, "]");
  od::object o;
  INJECT_RETURN_IF_ERROR(object(v, path, &o));
  InjectRecipient r;
  bool has_email = false, has_subs = false;
  for (auto f : o) {
    od::field field;
    std::string_view key;
    if (auto e = std::move(f).get(field); e) {
      return json_error(e);
    }
    if (auto e = field.unescaped_key().get(key); e) {
      return json_error(e);
    }
    od::value fv = field.value();
    if (key == "email") {
      if (has_email) {
        return key_error(path, key, "duplicate", fv);
      }
      has_email = true;
      INJECT_RETURN_IF_ERROR(string(fv, path + ".email", kMaxPath * 4, &r.email));
    } else if (key == "substitutions") {
      if (has_subs) {
        return key_error(path, key, "duplicate", fv);
      }
      has_subs = true;
      INJECT_RETURN_IF_ERROR(substitutions(fv, path + ".substitutions", &r.substitutions));
    } else if (!ignored_key(key)) {
      return key_error(path, key, "unknown", fv);
    }
  }
  if (!has_email) {
    return missing(path, "email");
  }
  std::string stored;
  bool utf8 = false;
  if (absl::Status s = check_email(r.email, &stored, &utf8); !s.ok()) {
    out->failed_recipients.push_back(
        FailedRecipient{.index = index, .email = std::move(r.email), .reason = cat(s.message())});
    return absl::OkStatus();
  }
  out->needs_smtputf8 |= utf8;
  r.email = std::move(stored);
  out->recipients.push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status Parser::recipients(od::value& v, InjectRequest* out) {
  od::json_type t;
  INJECT_RETURN_IF_ERROR(type_of(v, &t));
  if (t != od::json_type::array) {
    return field_error("recipients", "must be an array", v);
  }
  od::array a;
  if (auto e = v.get_array().get(a); e) {
    return json_error(e);
  }
  size_t index = 0;
  for (auto element : a) {
    od::value rv;
    if (auto e = std::move(element).get(rv); e) {
      return json_error(e);
    }
    if (index >= _limits.max_recipients) {
      return absl::InvalidArgumentError(cat("\"recipients\" has more than ",
                                                     _limits.max_recipients, " entries (at byte ",
                                                     offset(rv.raw_json_token()), ")"));
    }
    INJECT_RETURN_IF_ERROR(recipient(rv, index, out));
    ++index;
  }
  if (index == 0) {
    return field_error("recipients", "must not be empty", v);
  }
  return absl::OkStatus();
}

absl::Status Parser::parse(InjectRequest* out) {
  od::object root;
  {
    od::json_type t;
    if (auto e = _doc->type().get(t); e) {
      return json_error(e);
    }
    if (t != od::json_type::object) {
      return absl::InvalidArgumentError("the body must be a JSON object (at byte 0)");
    }
    if (auto e = _doc->get_object().get(root); e) {
      return json_error(e);
    }
  }
  enum : uint8_t { kSender = 1, kContent = 2, kRecipients = 4, kSubs = 8, kCampaign = 16 };
  uint8_t seen = 0;
  for (auto f : root) {
    od::field field;
    std::string_view key;
    if (auto e = std::move(f).get(field); e) {
      return json_error(e);
    }
    if (auto e = field.unescaped_key().get(key); e) {
      return json_error(e);
    }
    od::value v = field.value();
    uint8_t bit = 0;
    if (key == "envelope_sender") {
      bit = kSender;
    } else if (key == "content") {
      bit = kContent;
    } else if (key == "recipients") {
      bit = kRecipients;
    } else if (key == "substitutions") {
      bit = kSubs;
    } else if (key == "campaign_id") {
      bit = kCampaign;
    } else if (ignored_key(key)) {
      continue;
    } else {
      return key_error("", key, "unknown top-level", v);
    }
    if (seen & bit) {
      return key_error("", key, "duplicate", v);
    }
    seen |= bit;
    switch (bit) {
      case kSender: {
        INJECT_RETURN_IF_ERROR(string(v, "envelope_sender", kMaxPath * 4, &out->envelope_sender));
        if (!out->envelope_sender.empty()) {
          std::string stored;
          bool utf8 = false;
          if (absl::Status s = check_email(out->envelope_sender, &stored, &utf8); !s.ok()) {
            return field_error("envelope_sender", cat("is ", s.message()), v);
          }
          out->envelope_sender = std::move(stored);
          out->needs_smtputf8 |= utf8;
        }
        break;
      }
      case kContent:
        INJECT_RETURN_IF_ERROR(content(v, out));
        break;
      case kRecipients:
        INJECT_RETURN_IF_ERROR(recipients(v, out));
        break;
      case kSubs:
        INJECT_RETURN_IF_ERROR(substitutions(v, "substitutions", &out->substitutions));
        break;
      case kCampaign: {
        std::string id;
        // It becomes the envelope's campaign, as X-Ringmta-Campaign: would.
        INJECT_RETURN_IF_ERROR(string(v, "campaign_id", kControlValueMax, &id));
        for (char c : id) {
          if (c < 32 || c >= 127) {
            return field_error("campaign_id", "must be printable ASCII", v);
          }
        }
        out->campaign_id = std::move(id);
        break;
      }
    }
  }
  // simdjson 3.0.1's document has no at_end(): a location still inside
  // the body after the root object means something follows it.
  const char* rest = nullptr;
  if (_doc->current_location().get(rest) == simdjson::SUCCESS && rest != nullptr) {
    return json_error(simdjson::TRAILING_CONTENT);
  }
  if (!(seen & kSender)) {
    return missing("", "envelope_sender");
  }
  if (!(seen & kContent)) {
    return missing("", "content");
  }
  if (!(seen & kRecipients)) {
    return missing("", "recipients");
  }
  return absl::OkStatus();
}

}  // namespace inject_internal

using inject_internal::cat;
using inject_internal::Parser;
namespace od = simdjson::ondemand;

absl::Status check_email(std::string_view email, std::string* stored, bool* utf8) {
  if (email.empty() || email.front() == '@' || email.front() == '<') {
    return absl::InvalidArgumentError("not an address");
  }
  std::string path = cat("<", email, ">");
  Address a;
  switch (parse_path(path, PathOptions{.smtputf8 = true}, &a)) {
    case PathStatus::kOk:
      break;
    case PathStatus::kTooLong:
      return absl::InvalidArgumentError("too long for an address (RFC 5321 4.5.3.1)");
    default:
      return absl::InvalidArgumentError("not an address");
  }
  if (a.domain.empty()) {
    return absl::InvalidArgumentError("not an address");
  }
  *stored = address_text(a);
  *utf8 = a.has_utf8;
  return absl::OkStatus();
}

absl::StatusOr<InjectRequest> parse_inject_request(std::string_view body, const InjectLimits& limits) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (auto e = parser.iterate(padded).get(doc); e) {
    // Stage 1 (structure, UTF-8, unclosed strings) runs over the whole
    // body first and reports no position.
    return absl::InvalidArgumentError(cat(
        "malformed JSON (simdjson's whole-body check gives no byte offset): ", simdjson::error_message(e)));
  }
  InjectRequest out;
  Parser p(padded, &doc, limits);
  INJECT_RETURN_IF_ERROR(p.parse(&out));
  return out;
}

}  // namespace ringmta::proto

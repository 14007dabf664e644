// proto/inject_request.cc — inject_request.h's parser, on simdjson's
// On-Demand API with error codes (no exceptions: the engine's shards
// call this).
#include "proto/inject_request.h"

#include <simdjson.h>

#include <cstdint>

#include "absl/strings/string_view.h"
#include "proto/address.h"
#include "proto/header_scan.h"

namespace ringmta::proto {
namespace {

namespace od = simdjson::ondemand;

#define INJECT_RETURN_IF_ERROR(expr)       \
  do {                                     \
    ::absl::Status inject_status_ = (expr); \
    if (!inject_status_.ok()) {            \
      return inject_status_;               \
    }                                      \
  } while (0)

// cat joins message parts. Not absl::StrCat: Debian's abseil has its own
// string_view, which std::string_view does not convert to.
void append(std::string* s, std::string_view v) { s->append(v); }
void append(std::string* s, const char* v) { s->append(v); }
void append(std::string* s, const std::string& v) { s->append(v); }
void append(std::string* s, absl::string_view v) { s->append(v.data(), v.size()); }
void append(std::string* s, size_t n) { s->append(std::to_string(n)); }
template <typename... T>
std::string cat(const T&... parts) {
  std::string s;
  (append(&s, parts), ...);
  return s;
}

bool ignored_key(std::string_view key) {
  for (std::string_view k : kIgnoredKeys) {
    if (key == k) {
      return true;
    }
  }
  return false;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parser walks one document; every error names a path ("recipients[3].email")
// and the byte offset into the body.
class Parser {
 public:
  Parser(const simdjson::padded_string& body, od::document* doc, const InjectLimits& limits)
      : _base(body.data()), _size(body.size()), _doc(doc), _limits(limits) {}

  absl::Status parse(InjectRequest* out);

 private:
  size_t offset(std::string_view token) const {
    return static_cast<size_t>(token.data() - _base);
  }
  absl::Status json_error(simdjson::error_code e) {
    const char* at = nullptr;
    if (_doc->current_location().get(at) != simdjson::SUCCESS || at == nullptr) {
      return absl::InvalidArgumentError(
          cat("malformed JSON at byte ", _size, ": ", simdjson::error_message(e)));
    }
    return absl::InvalidArgumentError(cat("malformed JSON at byte ", static_cast<size_t>(at - _base), ": ",
                                                   simdjson::error_message(e)));
  }
  absl::Status field_error(std::string_view path, std::string_view what, od::value& v) {
    return absl::InvalidArgumentError(
        cat("\"", path, "\" ", what, " (at byte ", offset(v.raw_json_token()), ")"));
  }
  absl::Status missing(std::string_view path, std::string_view key) {
    return absl::InvalidArgumentError(cat(
        path.empty() ? "" : cat("\"", path, "\": "), "missing required key \"", key, "\""));
  }
  absl::Status key_error(std::string_view path, std::string_view key, std::string_view what,
                         od::value& v) {
    return absl::InvalidArgumentError(cat(path.empty() ? "" : cat("\"", path, "\": "),
                                                   what, " key \"", key, "\" (value at byte ",
                                                   offset(v.raw_json_token()), ")"));
  }

  absl::Status type_of(od::value& v, od::json_type* t) {
    if (auto e = v.type().get(*t); e) {
      return json_error(e);
    }
    return absl::OkStatus();
  }
  absl::Status string(od::value& v, std::string_view path, size_t max, std::string* out);
  absl::Status object(od::value& v, std::string_view path, od::object* out);
  absl::Status substitutions(od::value& v, std::string_view path, Substitutions* out);
  absl::Status content(od::value& v, InjectRequest* out);
  absl::Status parts(od::object& o, MessageParts* out);
  absl::Status headers(od::value& v, std::vector<std::pair<std::string, std::string>>* out);
  absl::Status recipients(od::value& v, InjectRequest* out);
  absl::Status recipient(od::value& v, size_t index, InjectRequest* out);

  const char* _base;
  size_t _size;
  od::document* _doc;
  const InjectLimits& _limits;
};

absl::Status Parser::string(od::value& v, std::string_view path, size_t max, std::string* out) {
  od::json_type t;
  INJECT_RETURN_IF_ERROR(type_of(v, &t));
  if (t != od::json_type::string) {
    return field_error(path, "must be a string", v);
  }
  std::string_view s;
  if (auto e = v.get_string().get(s); e) {
    return json_error(e);
  }
  if (s.size() > max) {
    return field_error(path, cat("is longer than ", max, " octets"), v);
  }
  out->assign(s);
  return absl::OkStatus();
}

absl::Status Parser::object(od::value& v, std::string_view path, od::object* out) {
  od::json_type t;
  INJECT_RETURN_IF_ERROR(type_of(v, &t));
  if (t != od::json_type::object) {
    return field_error(path, "must be an object", v);
  }
  if (auto e = v.get_object().get(*out); e) {
    return json_error(e);
  }
  return absl::OkStatus();
}

absl::Status Parser::substitutions(od::value& v, std::string_view path, Substitutions* out) {
  od::object o;
  INJECT_RETURN_IF_ERROR(object(v, path, &o));
  for (auto f : o) {
    od::field field;
    std::string_view key;
    if (auto e = std::move(f).get(field); e) {
      return json_error(e);
    }
    if (auto e = field.unescaped_key().get(key); e) {
      return json_error(e);
    }
    od::value value = field.value();
    if (!valid_variable_name(key)) {
      return key_error(path, key, "a substitution name is 1..64 of [A-Za-z0-9_.-], not", value);
    }
    if (out->size() >= _limits.max_substitutions) {
      return key_error(path, key, cat("more than ", _limits.max_substitutions, " substitutions at"),
                       value);
    }
    const std::string value_path = cat(path, ".", key);
    od::json_type t;
    INJECT_RETURN_IF_ERROR(type_of(value, &t));
    std::string text;
    if (t == od::json_type::number) {
      std::string_view token = trim_right(value.raw_json_token());
      double unused;
      if (auto e = value.get_double().get(unused); e) {
        return json_error(e);
      }
      text.assign(token);
    } else if (t == od::json_type::string) {
      INJECT_RETURN_IF_ERROR(string(value, value_path, _limits.max_value_size, &text));
    } else {
      return field_error(value_path, "must be a string or a number", value);
    }
    if (!out->emplace(std::string(key), std::move(text)).second) {
      return key_error(path, key, "duplicate", value);
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::headers(od::value& v,
                             std::vector<std::pair<std::string, std::string>>* out) {
  od::object o;
  INJECT_RETURN_IF_ERROR(object(v, "content.headers", &o));
  for (auto f : o) {
    od::field field;
    std::string_view name;
    if (auto e = std::move(f).get(field); e) {
      return json_error(e);
    }
    if (auto e = field.unescaped_key().get(name); e) {
      return json_error(e);
    }
    od::value hv = field.value();
    std::string value;
    INJECT_RETURN_IF_ERROR(
        string(hv, cat("content.headers.", name), _limits.max_value_size, &value));
    out->emplace_back(std::string(name), std::move(value));
  }
  return absl::OkStatus();
}

absl::Status Parser::parts(od::object& o, MessageParts* out) {
  bool has_from = false, has_subject = false, has_text = false, has_html = false;
  bool has_headers = false;
  for (auto f : o) {
    od::field field;
    std::string_view key;
    if (auto e = std::move(f).get(field); e) {
      return json_error(e);
    }
    if (auto e = field.unescaped_key().get(key); e) {
      return json_error(e);
    }
    od::value v = field.value();
    bool* seen = nullptr;
    absl::Status s;
    if (key == "from") {
      seen = &has_from;
      s = string(v, "content.from", kMaxPath * 4, &out->from);
    } else if (key == "subject") {
      seen = &has_subject;
      s = string(v, "content.subject", _limits.max_value_size, &out->subject);
    } else if (key == "text_body") {
      seen = &has_text;
      s = string(v, "content.text_body", _limits.max_content_size, &out->text_body);
    } else if (key == "html_body") {
      seen = &has_html;
      s = string(v, "content.html_body", _limits.max_content_size, &out->html_body);
    } else if (key == "reply_to") {
      if (out->reply_to) {
        return key_error("content", key, "duplicate", v);
      }
      out->reply_to.emplace();
      s = string(v, "content.reply_to", kMaxPath * 4, &*out->reply_to);
    } else if (key == "headers") {
      seen = &has_headers;
      if (!has_headers) {
        s = headers(v, &out->headers);
      }
    } else if (!ignored_key(key)) {
      return key_error("content", key, "unknown", v);
    }
    if (seen != nullptr) {
      if (*seen) {
        return key_error("content", key, "duplicate", v);
      }
      *seen = true;
    }
    INJECT_RETURN_IF_ERROR(s);
  }
  if (!has_from) {
    return missing("content", "from");
  }
  if (!has_subject) {
    return missing("content", "subject");
  }
  if (out->text_body.empty() && out->html_body.empty()) {
    return absl::InvalidArgumentError("\"content\": needs a non-empty \"text_body\" or \"html_body\"");
  }
  return absl::OkStatus();
}

absl::Status Parser::content(od::value& v, InjectRequest* out) {
  od::json_type t;
  INJECT_RETURN_IF_ERROR(type_of(v, &t));
  if (t == od::json_type::string) {
    std::string raw;
    INJECT_RETURN_IF_ERROR(string(v, "content", _limits.max_content_size, &raw));
    if (raw.empty()) {
      return field_error("content", "must not be empty", v);
    }
    out->content = std::move(raw);
    return absl::OkStatus();
  }
  if (t != od::json_type::object) {
    return field_error("content", "must be a string (the message) or an object (its parts)", v);
  }
  od::object o;
  INJECT_RETURN_IF_ERROR(object(v, "content", &o));
  MessageParts p;
  INJECT_RETURN_IF_ERROR(parts(o, &p));
  out->content = std::move(p);
  return absl::OkStatus();
}

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

}  // namespace

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

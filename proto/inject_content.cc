// proto/inject_content.cc — the JSON values of an inject request and its
// message content, raw or as parts (inject_parser.h).
#include "proto/address.h"
#include "proto/header_scan.h"
#include "proto/inject_parser.h"

namespace ringmta::proto::inject_internal {

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

}  // namespace ringmta::proto::inject_internal

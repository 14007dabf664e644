// engine/suppression/suppression_json.cc — entries in and out of JSON
// (suppression_json.h), with simdjson On-Demand and error codes, as the
// inject API parses its bodies.
#include "engine/suppression/suppression_json.h"

#include <simdjson.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "proto/json_text.h"

namespace ringmta {
namespace {

namespace od = simdjson::ondemand;

absl::Status entry_error(size_t i, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("entry ", i, ": ", av(what)));
}

absl::Status string_field(od::value& v, size_t i, std::string_view key, size_t max, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    return entry_error(i, absl::StrCat("\"", av(key), "\" must be a string"));
  }
  if (s.size() > max) {
    return entry_error(i, absl::StrCat("\"", av(key), "\" is longer than ", max, " octets"));
  }
  out->assign(s);
  return absl::OkStatus();
}

// Draft: one entry's fields as read, before they are checked together.
struct Draft {
  std::string address, reason = "manual", tenant, note, klass, time;
  bool have_time = false;
  bool any = false;
  int64_t unix_time = 0;
};

absl::Status take_field(std::string_view key, od::value v, size_t i, Draft* d) {
  d->any = true;
  if (key == "address") return string_field(v, i, key, kMaxSuppressionAddress, &d->address);
  if (key == "reason") return string_field(v, i, key, 32, &d->reason);
  if (key == "tenant") return string_field(v, i, key, kMaxSuppressionTenant, &d->tenant);
  if (key == "note") return string_field(v, i, key, kMaxSuppressionNote, &d->note);
  if (key == "class") return string_field(v, i, key, 64, &d->klass);
  if (key == "time") {
    d->have_time = true;
    if (v.get_int64().get(d->unix_time) == simdjson::SUCCESS) return absl::OkStatus();
    return string_field(v, i, key, 64, &d->time);
  }
  return entry_error(i, absl::StrCat("unknown key \"", av(key),
                                     "\" (expected address, reason, tenant, note, class, time)"));
}

absl::StatusOr<SuppressionEntry> finish(Draft& d, size_t i, absl::Time now) {
  if (d.address.empty()) {
    return entry_error(i, "\"address\" is missing (local@domain, or @domain for a whole domain)");
  }
  absl::StatusOr<SuppressionEntry> e = parse_target(d.address);
  if (!e.ok()) {
    return entry_error(i, sv(e.status().message()));
  }
  if (!parse_suppression_reason(d.reason, &e->reason)) {
    return entry_error(i, absl::StrCat("reason \"", d.reason, "\" is not bounce, complaint, unsubscribe or manual"));
  }
  if (!d.klass.empty() && !parse_bounce_class(d.klass, &e->bounce_class)) {
    return entry_error(i, absl::StrCat("class \"", d.klass, "\" is not a bounce class (tools/bounce-classes.toml)"));
  }
  for (char c : d.tenant) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return entry_error(i, "\"tenant\" has a control character");
    }
  }
  e->tenant = std::move(d.tenant);
  if (entry_key(*e).size() > kMaxSuppressionKey) {
    return entry_error(i, absl::StrCat("the address and the tenant are longer than ", kMaxSuppressionKey,
                                       " octets together"));
  }
  e->note = std::move(d.note);
  e->time = now;
  if (d.have_time) {
    if (d.time.empty()) {
      e->time = absl::FromUnixSeconds(d.unix_time);
    } else if (!parse_time(d.time, &e->time)) {
      return entry_error(i, absl::StrCat("time \"", d.time,
                                         "\" is not RFC 3339 (2026-12-04T10:00:00Z), a date or unix seconds"));
    }
  }
  return e;
}

absl::StatusOr<SuppressionEntry> parse_one(od::object obj, size_t i, absl::Time now) {
  Draft d;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(v) != simdjson::SUCCESS) {
      return entry_error(i, "malformed JSON");
    }
    if (absl::Status st = take_field(key, v, i, &d); !st.ok()) return st;
  }
  return finish(d, i, now);
}

}  // namespace

bool parse_time(std::string_view text, absl::Time* out) {
  int64_t n = 0;
  if (absl::SimpleAtoi(av(text), &n)) {
    *out = absl::FromUnixSeconds(n);
    return true;
  }
  std::string err;
  for (const char* f : {absl::RFC3339_full, "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"}) {
    if (absl::ParseTime(f, av(text), absl::UTCTimeZone(), out, &err)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::vector<SuppressionEntry>> parse_entries(std::string_view body, size_t max_entries,
                                                            absl::Time now) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("malformed JSON");
  }
  std::vector<SuppressionEntry> out;
  auto take_array = [&](od::array arr) -> absl::Status {
    for (auto item : arr) {
      od::object obj;
      if (item.get_object().get(obj) != simdjson::SUCCESS) {
        return entry_error(out.size(), "expected an object {\"address\": ...}");
      }
      if (out.size() >= max_entries) {
        return absl::InvalidArgumentError(absl::StrCat("more than ", max_entries, " entries in one request: send them in parts"));
      }
      absl::StatusOr<SuppressionEntry> e = parse_one(obj, out.size(), now);
      if (!e.ok()) return e.status();
      out.push_back(std::move(*e));
    }
    return absl::OkStatus();
  };
  od::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("malformed JSON");
  }
  absl::Status st;
  if (type == od::json_type::array) {
    od::array arr;
    if (doc.get_array().get(arr) != simdjson::SUCCESS) return absl::InvalidArgumentError("malformed JSON array");
    st = take_array(arr);
  } else if (type == od::json_type::object) {
    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return absl::InvalidArgumentError("malformed JSON object");
    // {"entries": [...]}, or one entry's own fields.
    Draft d;
    bool wrapped = false;
    for (auto field : obj) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(v) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("malformed JSON");
      }
      if (key == "entries") {
        od::array arr;
        if (v.get_array().get(arr) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError("\"entries\" must be an array of entry objects");
        }
        wrapped = true;
        st = take_array(arr);
      } else {
        st = take_field(key, v, 0, &d);
      }
      if (!st.ok()) return st;
    }
    if (wrapped && d.any) {
      return absl::InvalidArgumentError("either {\"entries\": [...]} or one entry's fields, not both");
    }
    if (!wrapped) {
      absl::StatusOr<SuppressionEntry> e = finish(d, 0, now);
      if (!e.ok()) return e.status();
      out.push_back(std::move(*e));
    }
  } else {
    return absl::InvalidArgumentError("expected an entry object, an array of them, or {\"entries\": [...]}");
  }
  if (!st.ok()) return st;
  // simdjson 3.0.1's document has no at_end(): a location still inside the
  // body after the root means something follows it.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS && rest != nullptr) {
    return absl::InvalidArgumentError("malformed JSON: text after the document");
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("no entries");
  }
  return out;
}

void append_entry_json(std::string* out, const SuppressionEntry& e) {
  *out += "{\"address\":";
  proto::append_json_string(out, e.address());
  *out += ",\"reason\":";
  proto::append_json_string(out, suppression_reason_name(e.reason));
  *out += ",\"class\":";
  proto::append_json_string(out, bounce_class_name(e.bounce_class));
  *out += ",\"time\":";
  proto::append_json_string(out, absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", e.time, absl::UTCTimeZone()));
  for (auto [key, value] : {std::pair{",\"tenant\":", std::string_view(e.tenant)},
                            std::pair{",\"note\":", std::string_view(e.note)},
                            std::pair{",\"source\":", std::string_view(e.source)}}) {
    if (!value.empty()) {
      *out += key;
      proto::append_json_string(out, value);
    }
  }
  *out += "}";
}

}  // namespace ringmta

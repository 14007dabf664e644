// engine/config/webhook_file.cc — the [[webhook]] tables (webhook_file.h).
#include "engine/config/webhook_file.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/config/toml_support.h"
#include "proto/address.h"

namespace ringmta {
namespace {

constexpr uint64_t kMaxBatchSize = 10'000;

// fnv1a64: a hash that stays the same across builds and machines (it names
// a file that outlives the process).
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// header_name: an RFC 9110 token.
bool header_name(std::string_view s) {
  if (s.empty() || s.size() > 100) {
    return false;
  }
  for (char c : s) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == 0) {
      return false;
    }
  }
  return true;
}

bool header_value(std::string_view s) {
  return s.size() <= 8192 && std::none_of(s.begin(), s.end(), [](char c) {
           return (static_cast<unsigned char>(c) < 32 && c != '\t') || c == 127;
         });
}

// The request's own framing headers: a configured one would contradict them.
bool reserved_header(std::string_view name) {
  for (std::string_view r : {"host", "content-length", "content-type", "transfer-encoding", "connection"}) {
    if (proto::ascii_iequals(name, r)) {
      return true;
    }
  }
  return false;
}

absl::Status read_entry(const toml::table& t, const std::string& where, Webhook* w) {
  bool have_url = false;
  for (const auto& [k, v] : t) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    const std::optional<std::string> s = v.value<std::string>();
    if (key == "url") {
      if (!s) {
        return toml_key_error(at, "expected a string such as \"http://127.0.0.1:9000/events\"");
      }
      if (absl::Status st = parse_webhook_url(*s, at, w); !st.ok()) {
        return st;
      }
      have_url = true;
    } else if (key == "events") {
      const toml::array* arr = v.as_array();
      if (arr == nullptr || arr->empty()) {
        return toml_key_error(at, "expected a non-empty array of event types");
      }
      w->events.clear();
      for (const toml::node& el : *arr) {
        const std::optional<std::string> e = el.value<std::string>();
        if (!e || std::find(std::begin(kWebhookEventTypes), std::end(kWebhookEventTypes), *e) ==
                      std::end(kWebhookEventTypes)) {
          std::string known;
          for (std::string_view t : kWebhookEventTypes) {
            absl::StrAppend(&known, known.empty() ? "" : ", ", "\"", av(t), "\"");
          }
          return toml_key_error(at, absl::StrCat("expected event types among ", known));
        }
        if (std::find(w->events.begin(), w->events.end(), *e) == w->events.end()) {
          w->events.push_back(*e);
        }
      }
    } else if (key == "batch_size") {
      const std::optional<int64_t> n = v.value<int64_t>();
      if (!v.is_integer() || !n || *n < 1 || static_cast<uint64_t>(*n) > kMaxBatchSize) {
        return toml_key_error(at, absl::StrCat("expected a number of events from 1 to ", kMaxBatchSize));
      }
      w->batch_size = static_cast<uint64_t>(*n);
    } else if (key == "max_delay") {
      if (!s || !parse_short_duration(*s, &w->max_delay_ms)) {
        return toml_key_error(at, "expected a duration such as \"500ms\", \"2s\" or \"1m\" (at most 1h)");
      }
    } else if (key == "headers") {
      const toml::table* h = v.as_table();
      if (h == nullptr) {
        return toml_key_error(at, "expected a table such as {Authorization = \"Bearer x\"}");
      }
      for (const auto& [hk, hv] : *h) {
        const std::string_view name = hk.str();
        const std::optional<std::string> value = hv.value<std::string>();
        const std::string hat = absl::StrCat(at, ".", av(name));
        if (!header_name(name)) {
          return toml_key_error(hat, "not an HTTP header field name");
        }
        if (reserved_header(name)) {
          return toml_key_error(hat, "set by the webhook client itself");
        }
        if (!value || !header_value(*value)) {
          return toml_key_error(hat, "expected a string without control characters");
        }
        w->headers.emplace_back(std::string(name), *value);
      }
    } else {
      return toml_key_error(at, "unknown key (a [[webhook]] takes url, events, batch_size, max_delay, headers; "
                                "see README \"Webhooks\")");
    }
  }
  if (!have_url) {
    return toml_key_error(where, "needs url = \"http://HOST:PORT/PATH\"");
  }
  return absl::OkStatus();
}

}  // namespace

bool Webhook::ships(std::string_view type) const {
  return std::find(events.begin(), events.end(), type) != events.end();
}

bool parse_short_duration(std::string_view text, int64_t* out_ms) {
  std::string_view s = text;
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
    ++digits;
  }
  uint64_t n = 0;
  if (digits == 0 || digits > 10 || !absl::SimpleAtoi(av(s.substr(0, digits)), &n) || n == 0) {
    return false;
  }
  const std::string_view unit = s.substr(digits);
  int64_t per = 0;
  if (unit == "ms") {
    per = 1;
  } else if (unit.empty() || unit == "s") {
    per = 1000;
  } else if (unit == "m" || unit == "min") {
    per = 60'000;
  } else if (unit == "h") {
    per = 3'600'000;
  } else {
    return false;
  }
  if (n > static_cast<uint64_t>(3'600'000 / per)) {
    return false;
  }
  *out_ms = static_cast<int64_t>(n) * per;
  return true;
}

absl::Status parse_webhook_url(std::string_view url, std::string_view where, Webhook* out) {
  auto bad = [&](std::string_view what) {
    return toml_key_error(where, absl::StrCat("'", av(url), "': ", av(what)));
  };
  const std::string lower = proto::ascii_lower(url.substr(0, std::min<size_t>(url.size(), 8)));
  if (lower.starts_with("https://")) {
    return bad("https is not yet supported: use http:// (for instance to a local TLS-terminating proxy)");
  }
  if (!lower.starts_with("http://")) {
    return bad("expected http://HOST:PORT/PATH");
  }
  std::string_view rest = url.substr(7);
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 32 || c == 127 || c == '#') {
      return bad("the path has a space, a control character or a fragment");
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    return bad("user:password@ is not supported: put credentials in headers = {Authorization = \"...\"}");
  }
  std::string_view host = authority;
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("an IPv6 address needs its closing ']'");
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return bad("expected :PORT after ']'");
      }
      port_text = after.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    has_port = true;
  }
  uint32_t port = 80;
  if (has_port && (!absl::SimpleAtoi(av(port_text), &port) || port == 0 || port > 65535)) {
    return bad("expected a port from 1 to 65535");
  }
  if (host.empty()) {
    return bad("no host");
  }
  const std::string host_text(host);
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host_text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host_text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else if (proto::valid_dns_name(host)) {
    // A name is resolved once, here (the config is read before any shard
    // runs, so this blocking call holds nobody up); it is not looked up
    // again until the next start.
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host_text.c_str(), nullptr, &hints, &res);
    if (rc != 0 || res == nullptr) {
      return bad(absl::StrCat("cannot resolve ", host_text, ": ", gai_strerror(rc)));
    }
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    freeaddrinfo(res);
    if (ss.ss_family == AF_INET) {
      v4->sin_port = htons(static_cast<uint16_t>(port));
    } else {
      v6->sin6_port = htons(static_cast<uint16_t>(port));
    }
  } else {
    return bad("the host is neither an IP address nor a host name");
  }
  out->url = std::string(url);
  out->host = std::string(authority);
  out->target = std::string(target);
  out->addr = ss;
  out->addr_len = len;
  out->offset_file = absl::StrFormat("webhook-%016x.offset", fnv1a64(url));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Webhook>> load_webhooks(const std::string& config_file) {
  std::vector<Webhook> hooks;
  if (config_file.empty()) {
    return hooks;
  }
  toml::parse_result res = toml::parse_file(config_file);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", config_file), res.error());
  }
  const toml::node* node = res.table().get("webhook");
  if (node == nullptr) {
    return hooks;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    return toml_key_error(absl::StrCat("config ", config_file, ": webhook"),
                          "expected [[webhook]] tables (one per receiver)");
  }
  for (const toml::node& n : *arr) {
    const std::string where = absl::StrCat("config ", config_file, ": webhook[", hooks.size() + 1, "]");
    const toml::table* t = n.as_table();
    if (t == nullptr) {
      return toml_key_error(where, "expected a table");
    }
    Webhook w;
    w.events.assign(std::begin(kWebhookEventTypes), std::end(kWebhookEventTypes));
    if (absl::Status s = read_entry(*t, where, &w); !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < hooks.size(); ++i) {
      if (hooks[i].url == w.url) {
        return toml_key_error(absl::StrCat(where, ".url"),
                              absl::StrCat("webhook[", i + 1, "] has the same url: one [[webhook]] per url "
                                           "(its offset file is named after the url)"));
      }
    }
    hooks.push_back(std::move(w));
  }
  return hooks;
}

}  // namespace ringmta

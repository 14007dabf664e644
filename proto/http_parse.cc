// proto/http_parse.cc — http-parser driven one message at a time, with our
// bounds (http_parse.h).
#include "proto/http_parse.h"

#include <http_parser.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/address.h"

namespace ringmta::proto {

struct HttpParser::Impl {
  http_parser parser;
  http_parser_settings settings;

  static HttpParser* self(http_parser* p) { return static_cast<HttpParser*>(p->data); }

  // Every piece of the head counts against max_header_bytes as it arrives,
  // so a client cannot make us buffer an unbounded header.
  static bool count_head(HttpParser* s, size_t len) {
    s->_header_bytes += len;
    if (s->_header_bytes > s->_limits.max_header_bytes) {
      s->fail(431, absl::StrCat("request header is larger than ", s->_limits.max_header_bytes, " bytes"));
      return false;
    }
    return true;
  }

  static int on_message_begin(http_parser* p) {
    self(p)->_started = true;
    return 0;
  }
  static int on_url(http_parser* p, const char* at, size_t len) {
    HttpParser* s = self(p);
    s->_started = true;
    if (s->_msg.target.size() + len > s->_limits.max_header_bytes / 2) {
      s->fail(414, "request target is too long");
      return 1;
    }
    if (!count_head(s, len)) return 1;
    s->_msg.target.append(at, len);
    return 0;
  }
  static int on_status(http_parser* p, const char* /*at*/, size_t len) {
    return count_head(self(p), len) ? 0 : 1;
  }
  static int on_header_field(http_parser* p, const char* at, size_t len) {
    HttpParser* s = self(p);
    if (!count_head(s, len)) return 1;
    if (s->_in_value || s->_msg.headers.empty()) {
      if (s->_msg.headers.size() == s->_limits.max_headers) {
        s->fail(431, absl::StrCat("more than ", s->_limits.max_headers, " header fields"));
        return 1;
      }
      s->_msg.headers.emplace_back();
      s->_in_value = false;
    }
    s->_msg.headers.back().name.append(at, len);
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, size_t len) {
    HttpParser* s = self(p);
    if (!count_head(s, len)) return 1;
    s->_in_value = true;
    s->_msg.headers.back().value.append(at, len);
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    HttpParser* s = self(p);
    if (p->upgrade) {
      s->fail(501, "protocol upgrade is not supported");
      return 1;
    }
    // A declared length over the limit is refused before the body is read.
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > s->_limits.max_body) {
      s->fail(413, absl::StrCat("request body is larger than ", s->_limits.max_body, " bytes"));
      return 1;
    }
    s->_msg.method = p->type == HTTP_REQUEST ? http_method_str(static_cast<http_method>(p->method)) : "";
    s->_msg.status = p->type == HTTP_RESPONSE ? static_cast<int>(p->status_code) : 0;
    if (p->type == HTTP_REQUEST) {
      if (const std::string* e = s->_msg.header("Expect")) {
        if (ascii_iequals(*e, "100-continue")) {
          s->_continue = true;
        } else {
          s->fail(417, absl::StrCat("unsupported Expect: ", *e));
          return 1;
        }
      }
    }
    return 0;
  }
  static int on_body(http_parser* p, const char* at, size_t len) {
    HttpParser* s = self(p);
    if (s->_msg.body.size() + len > s->_limits.max_body) {
      s->fail(413, absl::StrCat("request body is larger than ", s->_limits.max_body, " bytes"));
      return 1;
    }
    s->_msg.body.append(at, len);
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    HttpParser* s = self(p);
    s->_msg.keep_alive = http_should_keep_alive(p) != 0;
    s->_done = true;
    s->_continue = false;
    // Stop here: what follows is the next (pipelined) message, which is
    // parsed only after this one is answered.
    http_parser_pause(p, 1);
    return 0;
  }
};

HttpParser::HttpParser(Kind kind, HttpLimits limits) : _impl(std::make_unique<Impl>()), _limits(limits) {
  http_parser_init(&_impl->parser, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
  _impl->parser.data = this;
  http_parser_settings_init(&_impl->settings);
  _impl->settings.on_message_begin = &Impl::on_message_begin;
  _impl->settings.on_url = &Impl::on_url;
  _impl->settings.on_status = &Impl::on_status;
  _impl->settings.on_header_field = &Impl::on_header_field;
  _impl->settings.on_header_value = &Impl::on_header_value;
  _impl->settings.on_headers_complete = &Impl::on_headers_complete;
  _impl->settings.on_body = &Impl::on_body;
  _impl->settings.on_message_complete = &Impl::on_message_complete;
}

HttpParser::~HttpParser() = default;

void HttpParser::fail(int status, std::string message) {
  if (_error.message.empty()) {
    _error = {status, std::move(message)};
  }
}

size_t HttpParser::feed(std::string_view data) {
  if (_done || failed() || data.empty()) {
    return 0;
  }
  http_parser* p = &_impl->parser;
  const size_t used = http_parser_execute(p, &_impl->settings, data.data(), data.size());
  const auto err = static_cast<http_errno>(p->http_errno);
  if (err != HPE_OK && err != HPE_PAUSED && !failed()) {
    fail(400, absl::StrCat("malformed HTTP: ", http_errno_description(err)));
  }
  return used;
}

void HttpParser::feed_eof() {
  if (_done || failed()) {
    return;
  }
  http_parser* p = &_impl->parser;
  http_parser_execute(p, &_impl->settings, nullptr, 0);
  if (!_done && _started && !failed()) {
    fail(400, "connection closed in the middle of a message");
  }
}

HttpMessage HttpParser::take() {
  HttpMessage m = std::move(_msg);
  _msg = {};
  _header_bytes = 0;
  _in_value = false;
  _started = false;
  _done = false;
  _continue = false;
  http_parser_pause(&_impl->parser, 0);
  return m;
}

bool HttpParser::take_continue() {
  if (!_continue || failed() || _done) {
    return false;
  }
  _continue = false;
  return true;
}

const std::string* HttpMessage::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (ascii_iequals(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}

std::string_view HttpMessage::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// percent_decode: application/x-www-form-urlencoded ('+' is a space), or
// a path segment (form = false: '+' is itself); a malformed escape stays
// as it is.
std::string percent_decode(std::string_view s, bool form = true) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && form) {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string percent_decode_path(std::string_view segment) { return percent_decode(segment, false); }

std::string HttpMessage::query_param(std::string_view name) const {
  std::string_view t = target;
  const size_t q = t.find('?');
  if (q == std::string_view::npos) {
    return "";
  }
  for (absl::string_view apair : absl::StrSplit(absl::string_view(t.data() + q + 1, t.size() - q - 1), '&')) {
    const std::string_view pair(apair.data(), apair.size());
    const size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
  }
  return "";
}

}  // namespace ringmta::proto

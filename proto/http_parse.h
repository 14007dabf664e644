// proto/http_parse.h — HTTP/1.1 messages (requests for the admin API,
// responses for the webhook client) read from a byte stream, one at a
// time, with every length bounded.
//
//   HttpParser p(HttpParser::Kind::kRequest, limits);
//   size_t used = p.feed(bytes);          // stops at the end of one message
//   if (p.failed()) reply(p.error());     // 400 / 413 / 431 / 501, then close
//   else if (p.done()) serve(p.take());   // then feed the rest (pipelining)
//   else if (p.take_continue()) send("100 Continue");
//
// The grammar is nodejs's http-parser (Debian libhttp-parser 2.9): a
// resumable parser that has faced the internet for a decade, with chunked
// bodies, keep-alive rules and the request-smuggling checks (both
// Content-Length and Transfer-Encoding, duplicate lengths) done. What is
// ours is the part a parser library leaves to its caller: stopping at a
// message boundary so pipelined requests are answered in order, and the
// bounds (header bytes, header count, target length, body size), each
// with its own status code, checked as bytes arrive rather than after.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::proto {

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;  // request line + headers (431 beyond; 414 for the target)
  size_t max_headers = 64;
  size_t max_body = 64u << 20;          // 413 beyond, checked against Content-Length first
};

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpMessage {
  std::string method;  // requests: "GET", "POST", ...
  std::string target;  // requests: "/api/v1/queues?domain=x"
  int status = 0;      // responses
  std::vector<HttpHeader> headers;
  std::string body;    // de-chunked
  bool keep_alive = true;  // HTTP/1.1 default, Connection: close, HTTP/1.0 rules

  // header: the first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
  // path: the target without its query; query_param: a decoded parameter
  // of the query string ("" when absent).
  std::string_view path() const;
  std::string query_param(std::string_view name) const;
};

// percent_decode_path decodes %XX in a path segment ("bob%40example.com");
// '+' stays '+' (it is a space only in a query string).
std::string percent_decode_path(std::string_view segment);

struct HttpError {
  int status = 0;  // what to answer a request with: 400, 413, 414, 431, 501
  std::string message;
};

class HttpParser {
 public:
  enum class Kind { kRequest, kResponse };
  HttpParser(Kind kind, HttpLimits limits);
  ~HttpParser();
  HttpParser(const HttpParser&) = delete;
  HttpParser& operator=(const HttpParser&) = delete;

  // feed parses data up to the end of one message and returns how many
  // bytes it used; the rest belongs to the next message. Feed nothing
  // more once failed().
  size_t feed(std::string_view data);
  // feed_eof: the peer closed. Ends a response whose body runs to the
  // close; anything else unfinished becomes an error.
  void feed_eof();

  bool done() const { return _done; }
  bool failed() const { return !_error.message.empty(); }
  const HttpError& error() const { return _error; }
  // in_message: some bytes of a message that is not complete have arrived.
  bool in_message() const { return _started && !_done; }
  // take hands over the complete message and readies the next one.
  HttpMessage take();
  // take_continue: true once per request that asked "Expect: 100-continue"
  // and whose headers are in (and within the limits): answer 100 now.
  bool take_continue();

 private:
  struct Impl;
  friend struct Impl;
  void fail(int status, std::string message);

  std::unique_ptr<Impl> _impl;
  HttpLimits _limits;
  HttpMessage _msg;
  HttpError _error;
  size_t _header_bytes = 0;
  bool _in_value = false;  // the last header callback was a value
  bool _started = false;
  bool _done = false;
  bool _continue = false;
};

}  // namespace ringmta::proto

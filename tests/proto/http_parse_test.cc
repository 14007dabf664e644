// tests/proto/http_parse_test.cc — proto/http_parse.h: one message at a
// time, pipelining, chunked bodies, bounds, keep-alive, responses.
#include "proto/http_parse.h"

#include <gtest/gtest.h>

#include <string>

#include "proto/http_response.h"

namespace ringmta::proto {
namespace {

using Kind = HttpParser::Kind;

TEST(HttpParse, SimpleGetWithQuery) {
  HttpParser p(Kind::kRequest, {});
  const std::string req = "GET /api/v1/messages?domain=ex%41mple.com&x=a+b HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(p.feed(req), req.size());
  ASSERT_TRUE(p.done());
  HttpMessage m = p.take();
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.path(), "/api/v1/messages");
  EXPECT_EQ(m.query_param("domain"), "exAmple.com");
  EXPECT_EQ(m.query_param("x"), "a b");
  EXPECT_EQ(m.query_param("missing"), "");
  ASSERT_NE(m.header("host"), nullptr);
  EXPECT_EQ(*m.header("HOST"), "h");
  EXPECT_TRUE(m.keep_alive);
}

TEST(HttpParse, PipelinedRequestsComeOneAtATime) {
  HttpParser p(Kind::kRequest, {});
  const std::string a = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const std::string b = "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::string both = a + b;
  size_t used = p.feed(both);
  EXPECT_EQ(used, a.size());
  ASSERT_TRUE(p.done());
  HttpMessage m = p.take();
  EXPECT_EQ(m.target, "/a");
  EXPECT_EQ(m.body, "abc");
  EXPECT_EQ(p.feed(std::string_view(both).substr(used)), b.size());
  ASSERT_TRUE(p.done());
  m = p.take();
  EXPECT_EQ(m.target, "/b");
  EXPECT_FALSE(m.keep_alive);
}

TEST(HttpParse, ByteAtATimeChunked) {
  HttpParser p(Kind::kRequest, {});
  const std::string req =
      "POST /inject HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-Long: v1\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (size_t i = 0; i < req.size(); ++i) {
    EXPECT_FALSE(p.done());
    EXPECT_EQ(p.feed(std::string_view(req).substr(i, 1)), 1u) << i;
    EXPECT_FALSE(p.failed()) << p.error().message;
  }
  ASSERT_TRUE(p.done());
  HttpMessage m = p.take();
  EXPECT_EQ(m.body, "hello world");
  EXPECT_EQ(*m.header("x-long"), "v1");
}

TEST(HttpParse, DeclaredBodyOverTheLimitIs413BeforeTheBody) {
  HttpParser p(Kind::kRequest, {.max_body = 10});
  p.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  ASSERT_TRUE(p.failed());
  EXPECT_EQ(p.error().status, 413);
}

TEST(HttpParse, ChunkedBodyOverTheLimitIs413) {
  HttpParser p(Kind::kRequest, {.max_body = 10});
  p.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n");
  ASSERT_TRUE(p.failed());
  EXPECT_EQ(p.error().status, 413);
}

TEST(HttpParse, HeadBounds) {
  HttpParser big(Kind::kRequest, {.max_header_bytes = 100});
  big.feed("GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n");
  ASSERT_TRUE(big.failed());
  EXPECT_EQ(big.error().status, 431);

  HttpParser many(Kind::kRequest, {.max_headers = 3});
  many.feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  ASSERT_TRUE(many.failed());
  EXPECT_EQ(many.error().status, 431);

  HttpParser target(Kind::kRequest, {.max_header_bytes = 100});
  target.feed("GET /" + std::string(80, 'a') + " HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(target.failed());
  EXPECT_EQ(target.error().status, 414);
}

TEST(HttpParse, MalformedAndSmuggling) {
  HttpParser bad(Kind::kRequest, {});
  bad.feed("GARBAGE\r\n\r\n");
  ASSERT_TRUE(bad.failed());
  EXPECT_EQ(bad.error().status, 400);

  // Both lengths: the classic request-smuggling shape.
  HttpParser both(Kind::kRequest, {});
  both.feed("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_TRUE(both.failed());
  EXPECT_EQ(both.error().status, 400);

  HttpParser two(Kind::kRequest, {});
  two.feed("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
  ASSERT_TRUE(two.failed());

  HttpParser upgrade(Kind::kRequest, {});
  upgrade.feed("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_TRUE(upgrade.failed());
  EXPECT_EQ(upgrade.error().status, 501);
}

TEST(HttpParse, KeepAliveRules) {
  HttpParser p(Kind::kRequest, {});
  p.feed("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(p.done());
  EXPECT_FALSE(p.take().keep_alive);
  p.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(p.done());
  EXPECT_TRUE(p.take().keep_alive);
}

TEST(HttpParse, ExpectContinue) {
  HttpParser p(Kind::kRequest, {});
  p.feed("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(p.in_message());
  EXPECT_TRUE(p.take_continue());
  EXPECT_FALSE(p.take_continue());
  p.feed("ok");
  ASSERT_TRUE(p.done());
  EXPECT_EQ(p.take().body, "ok");

  HttpParser other(Kind::kRequest, {});
  other.feed("POST / HTTP/1.1\r\nExpect: something\r\nContent-Length: 2\r\n\r\n");
  ASSERT_TRUE(other.failed());
  EXPECT_EQ(other.error().status, 417);
}

TEST(HttpParse, Responses) {
  HttpParser p(Kind::kResponse, {});
  p.feed("HTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nno");
  ASSERT_TRUE(p.done());
  HttpMessage m = p.take();
  EXPECT_EQ(m.status, 503);
  EXPECT_EQ(m.body, "no");

  // A body that runs to the close.
  HttpParser eof(Kind::kResponse, {});
  eof.feed("HTTP/1.0 200 OK\r\n\r\nall of it");
  EXPECT_FALSE(eof.done());
  eof.feed_eof();
  ASSERT_TRUE(eof.done());
  EXPECT_EQ(eof.take().body, "all of it");

  HttpParser cut(Kind::kResponse, {});
  cut.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  cut.feed_eof();
  EXPECT_TRUE(cut.failed());
}

TEST(HttpResponse, Bytes) {
  EXPECT_EQ(http_response(200, "text/plain", "hi", true), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(http_error(404, "no \"x\"", false),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
            "{\"error\":\"no \\\"x\\\"\"}\n");
}

}  // namespace
}  // namespace ringmta::proto

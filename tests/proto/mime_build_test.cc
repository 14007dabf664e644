// tests/proto/mime_build_test.cc — messages built from parts: exact bytes
// for the simple case, and a round trip through Python's email parser
// (what a reader would see) for the encodings.
#include "proto/mime_build.h"

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

using ::testing::HasSubstr;

MimeOptions options() {
  return MimeOptions{.to = "a@example.net",
                     .date = absl::FromUnixSeconds(1795341600),
                     .message_id_token = "m1",
                     .boundary_token = "b1"};
}

MessageParts parts() {
  MessageParts p;
  p.from = "News <news@Example.COM>";
  p.subject = "Hello Ann";
  p.text_body = "Hi Ann.\n";
  return p;
}

std::string build_ok(const MessageParts& p, const MimeOptions& o = options()) {
  absl::StatusOr<std::string> m = build_mime_message(p, o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : "";
}

// python_view parses `message` with Python's email package and returns what
// a reader sees: decoded headers, each leaf part's type and decoded text,
// and the number of defects the parser found.
std::string python_view(const std::string& message) {
  const std::string path = testing::TempDir() + "mime_build_test.eml";
  std::ofstream(path, std::ios::binary) << message;
  const std::string cmd =
      "/usr/bin/python3 -c '\n"
      "import email, email.policy, json, sys\n"
      "m = email.message_from_binary_file(open(sys.argv[1], \"rb\"), policy=email.policy.default)\n"
      "d = len(m.defects)\n"
      "out = [\"from=\" + str(m[\"from\"]), \"to=\" + str(m[\"to\"]), \"subject=\" + str(m[\"subject\"])]\n"
      "for p in m.walk():\n"
      "  d += len(p.defects)\n"
      "  if not p.is_multipart():\n"
      "    out.append(p.get_content_type() + \"=\" + json.dumps(p.get_content()))\n"
      "out.append(\"defects=\" + str(d))\n"
      "print(\"\\n\".join(out))\n"
      "' " + path;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    return "popen failed";
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
  }
  pclose(f);
  std::remove(path.c_str());
  return out;
}

TEST(MimeBuildTest, TextOnlyExactBytes) {
  EXPECT_EQ(build_ok(parts()),
            "From: News <news@Example.COM>\r\n"
            "To: a@example.net\r\n"
            "Subject: Hello Ann\r\n"
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <m1@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "\r\n"
            "Hi Ann.\r\n");
}

TEST(MimeBuildTest, ToOmittedReplyToAndExtraHeaders) {
  MessageParts p = parts();
  p.reply_to = "\"Help, Desk\" <help@example.com>";
  p.headers = {{"X-Foo", "bar"}, {"List-Unsubscribe", "<https://u.example/x>"}};
  MimeOptions o = options();
  o.to = "";
  std::string m = build_ok(p, o);
  EXPECT_EQ(m.find("\r\nTo:"), std::string::npos);
  EXPECT_THAT(m, HasSubstr("Reply-To: \"Help, Desk\" <help@example.com>\r\n"));
  EXPECT_THAT(m, HasSubstr("MIME-Version: 1.0\r\nX-Foo: bar\r\nList-Unsubscribe: <https://u.example/x>\r\n"));
}

TEST(MimeBuildTest, HtmlOnly) {
  MessageParts p = parts();
  p.text_body = "";
  p.html_body = "<p>Hi</p>";
  std::string m = build_ok(p);
  EXPECT_THAT(m, HasSubstr("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<p>Hi</p>\r\n"));
  EXPECT_THAT(python_view(m), HasSubstr("text/html=\"<p>Hi</p>\\n\"\ndefects=0"));
}

TEST(MimeBuildTest, MultipartAlternativeRoundTrip) {
  MessageParts p = parts();
  p.from = "Café Ünïcode <news@example.com>";
  p.subject = "Grüße, Ann — this subject is long enough to need more than one encoded word, surely";
  p.text_body = "Grüße\nline two with = sign and trailing space \n" + std::string(200, 'x') + "\n";
  p.html_body = "<p>Hi Ann</p>\n";
  std::string m = build_ok(p);
  EXPECT_THAT(m, HasSubstr("Content-Type: multipart/alternative; boundary=\"=_b1\"\r\n"));
  EXPECT_THAT(m, HasSubstr("Subject: =?utf-8?B?"));
  EXPECT_THAT(m, HasSubstr("Content-Transfer-Encoding: quoted-printable\r\n"));
  for (size_t pos = 0, end; (end = m.find("\r\n", pos)) != std::string::npos; pos = end + 2) {
    EXPECT_LE(end - pos, 998u);
  }
  EXPECT_EQ(python_view(m),
            "from=Café Ünïcode <news@example.com>\n"
            "to=a@example.net\n"
            "subject=" + p.subject + "\n"
            "text/plain=\"Gr\\u00fc\\u00dfe\\nline two with = sign and trailing space \\n" +
                std::string(200, 'x') + "\\n\"\n"
            "text/html=\"<p>Hi Ann</p>\\n\"\n"
            "defects=0\n");
}

TEST(MimeBuildTest, BoundaryNeverInABody) {
  MessageParts p = parts();
  p.text_body = "--=_b1\n--=_b1.1\n";
  p.html_body = "<p>x</p>";
  std::string m = build_ok(p);
  EXPECT_THAT(m, HasSubstr("boundary=\"=_b1.2\""));
  EXPECT_THAT(python_view(m), HasSubstr("text/plain=\"--=_b1\\n--=_b1.1\\n\"\ntext/html=\"<p>x</p>\\n\"\ndefects=0"));
}

TEST(MimeBuildTest, AsciiSubjectWithEncodedWordLookalikeIsEncoded) {
  MessageParts p = parts();
  p.subject = "=?utf-8?B?eA==?=";
  EXPECT_THAT(python_view(build_ok(p)), HasSubstr("subject==?utf-8?B?eA==?=\n"));
}

TEST(MimeBuildTest, RefusesHeaderInjectionAndOverrides) {
  MessageParts p = parts();
  p.subject = "x\r\nBcc: victim@example.org";
  EXPECT_FALSE(build_mime_message(p, options()).ok());
  p = parts();
  p.from = "News <news@example.com>\nBcc: v@example.org";
  EXPECT_FALSE(build_mime_message(p, options()).ok());
  MimeOptions o = options();
  o.to = "a@example.net\r\nBcc: v@example.org";
  EXPECT_FALSE(build_mime_message(parts(), o).ok());
  for (const char* name : {"From", "to", "SUBJECT", "Date", "Message-Id", "MIME-Version",
                           "Content-Type", "content-transfer-encoding", "X-Ringmta-Pool"}) {
    p = parts();
    p.headers = {{name, "x"}};
    absl::StatusOr<std::string> m = build_mime_message(p, options());
    EXPECT_FALSE(m.ok()) << name;
  }
  for (const char* name : {"", "X Foo", "X:Foo", "X-F\xc3\xb6o"}) {
    p = parts();
    p.headers = {{name, "x"}};
    EXPECT_THAT(std::string(build_mime_message(p, options()).status().message()), HasSubstr("ftext")) << name;
  }
  p = parts();
  p.headers = {{"X-Foo", "a\r\nBcc: v@example.org"}};
  EXPECT_FALSE(build_mime_message(p, options()).ok());
  p.headers = {{"X-Foo", "caf\xc3\xa9"}};
  EXPECT_FALSE(build_mime_message(p, options()).ok());
  // Reply-To may be given as a header only when reply_to is not set.
  p.headers = {{"Reply-To", "r@example.com"}};
  EXPECT_TRUE(build_mime_message(p, options()).ok());
  p.reply_to = "s@example.com";
  EXPECT_FALSE(build_mime_message(p, options()).ok());
}

TEST(MimeBuildTest, RefusesBadFromAndTokens) {
  MessageParts p = parts();
  for (const char* from : {"", "News", "News <>", "News <not-an-address>", "<a@b.example"}) {
    p.from = from;
    EXPECT_FALSE(build_mime_message(p, options()).ok()) << from;
  }
  p.from = "plain@example.com";
  EXPECT_THAT(build_ok(p), HasSubstr("From: plain@example.com\r\n"));
  MimeOptions o = options();
  o.message_id_token = "a b";
  EXPECT_FALSE(build_mime_message(parts(), o).ok());
  o = options();
  o.boundary_token = "";
  p = parts();
  p.html_body = "<p>x</p>";
  EXPECT_FALSE(build_mime_message(p, o).ok());
  p.text_body = p.html_body = "";
  EXPECT_FALSE(build_mime_message(p, options()).ok());
}

TEST(MimeBuildTest, QuotedPrintable) {
  EXPECT_EQ(quoted_printable("a=b\r\n"), "a=3Db\r\n");
  EXPECT_EQ(quoted_printable("trailing \r\ntab\t\r\n"), "trailing=20\r\ntab=09\r\n");
  EXPECT_EQ(quoted_printable("caf\xc3\xa9\n"), "caf=C3=A9\r\n");
  std::string qp = quoted_printable(std::string(200, 'x') + "\r\n");
  EXPECT_EQ(qp, std::string(75, 'x') + "=\r\n" + std::string(75, 'x') + "=\r\n" + std::string(50, 'x') + "\r\n");
  // An escape is never split by a soft break; no line passes 76.
  std::string e = quoted_printable(std::string(74, 'x') + "\xc3\xa9\r\n");
  EXPECT_EQ(e, std::string(74, 'x') + "=\r\n=C3=A9\r\n");
  std::string exact = quoted_printable(std::string(76, 'x') + "\r\n");
  EXPECT_EQ(exact, std::string(76, 'x') + "\r\n");
}

TEST(MimeBuildTest, NeedsQuotedPrintable) {
  EXPECT_FALSE(needs_quoted_printable("plain\r\n" + std::string(998, 'x') + "\r\n"));
  EXPECT_TRUE(needs_quoted_printable(std::string(999, 'x') + "\r\n"));
  EXPECT_TRUE(needs_quoted_printable(std::string("a\0b", 3)));
  EXPECT_TRUE(needs_quoted_printable("\xc3\xa9"));
}

TEST(MimeBuildTest, EncodedWordsSplitBetweenCharacters) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "\xc3\xa9";  // 2 octets each: 45 would split one
  }
  std::string w = encoded_words(text);
  EXPECT_EQ(w.find("=?utf-8?B?"), 0u);
  size_t words = 0;
  for (size_t pos = 0, end; pos < w.size(); pos = end + 3, ++words) {
    end = w.find("\r\n ", pos);
    if (end == std::string::npos) {
      end = w.size();
    }
    EXPECT_LE(end - pos, 75u);
  }
  EXPECT_EQ(words, 2u);
}

}  // namespace
}  // namespace ringmta::proto

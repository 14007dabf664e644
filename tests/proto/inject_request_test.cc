// tests/proto/inject_request_test.cc — the inject API's JSON body: what it
// accepts, and that each refusal names the field and the byte.
#include "proto/inject_request.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

using ::testing::HasSubstr;

constexpr const char* kExample = R"({"envelope_sender": "bounces@news.example.com",
 "content": "From: News <news@example.com>\r\nSubject: Hello {{name}}\r\n\r\nHi {{name}}, your code is {{code}}.\r\n",
 "recipients": [{"email": "a@Example.NET", "substitutions": {"name": "Ann", "code": "A1"}},
                {"email": "b@example.org", "substitutions": {"name": "Bob", "n": 42, "f": -1.5e3}}],
 "substitutions": {"code": "default"},
 "campaign_id": "spring-2026"})";

std::string error_of(std::string_view body, const InjectLimits& limits = {}) {
  absl::StatusOr<InjectRequest> r = parse_inject_request(body, limits);
  EXPECT_FALSE(r.ok());
  if (r.ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

std::string with_recipients(std::string_view recipients) {
  return std::string(R"({"envelope_sender": "", "content": "Subject: x\r\n\r\nx\r\n", "recipients": )") +
         std::string(recipients) + "}";
}

TEST(InjectRequestTest, ParsesTheExample) {
  absl::StatusOr<InjectRequest> r = parse_inject_request(kExample);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->envelope_sender, "bounces@news.example.com");
  ASSERT_TRUE(std::holds_alternative<std::string>(r->content));
  EXPECT_THAT(std::get<std::string>(r->content), HasSubstr("Subject: Hello {{name}}\r\n"));
  ASSERT_EQ(r->recipients.size(), 2u);
  EXPECT_EQ(r->recipients[0].email, "a@example.net");  // stored form
  EXPECT_EQ(r->recipients[0].substitutions.at("code"), "A1");
  EXPECT_EQ(r->recipients[1].substitutions.at("n"), "42");
  EXPECT_EQ(r->recipients[1].substitutions.at("f"), "-1.5e3");
  EXPECT_EQ(r->substitutions.at("code"), "default");
  EXPECT_EQ(r->campaign_id, "spring-2026");
  EXPECT_TRUE(r->failed_recipients.empty());
  EXPECT_FALSE(r->needs_smtputf8);
}

TEST(InjectRequestTest, ParsesContentParts) {
  absl::StatusOr<InjectRequest> r = parse_inject_request(R"({"envelope_sender": "b@x.example",
    "content": {"from": "News <news@example.com>", "subject": "Hi {{name}}", "text_body": "t",
                "html_body": "<p>h</p>", "headers": {"X-Foo": "bar", "List-Id": "l"},
                "reply_to": "r@example.com"},
    "recipients": [{"email": "a@example.net"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  const MessageParts& p = std::get<MessageParts>(r->content);
  EXPECT_EQ(p.from, "News <news@example.com>");
  EXPECT_EQ(p.subject, "Hi {{name}}");
  EXPECT_EQ(p.text_body, "t");
  EXPECT_EQ(p.html_body, "<p>h</p>");
  EXPECT_EQ(p.reply_to, "r@example.com");
  ASSERT_EQ(p.headers.size(), 2u);
  EXPECT_EQ(p.headers[1].first, "List-Id");
  EXPECT_FALSE(r->campaign_id.has_value());
}

TEST(InjectRequestTest, ContentPartsNeedFromSubjectAndABody) {
  auto body = [](std::string_view content) {
    return std::string(R"({"envelope_sender": "", "recipients": [{"email": "a@b.example"}], "content": )") +
           std::string(content) + "}";
  };
  EXPECT_THAT(error_of(body(R"({"subject": "s", "text_body": "t"})")), HasSubstr("\"from\""));
  EXPECT_THAT(error_of(body(R"({"from": "a@b.example", "text_body": "t"})")), HasSubstr("\"subject\""));
  EXPECT_THAT(error_of(body(R"({"from": "a@b.example", "subject": "s"})")), HasSubstr("text_body"));
  EXPECT_THAT(error_of(body(R"({"from": "a@b.example", "subject": "s", "text": "t"})")),
              HasSubstr("unknown key \"text\""));
  EXPECT_THAT(error_of(body(R"({"from": "a@b.example", "subject": "s", "text_body": "t", "headers": {"X": 1}})")),
              HasSubstr("\"content.headers.X\" must be a string"));
  EXPECT_THAT(error_of(body("42")), HasSubstr("\"content\" must be a string (the message) or an object"));
  EXPECT_THAT(error_of(body(R"("")")), HasSubstr("\"content\" must not be empty"));
}

TEST(InjectRequestTest, NullSenderAndBadSender) {
  ASSERT_TRUE(parse_inject_request(with_recipients(R"([{"email": "a@b.example"}])")).ok());
  std::string body = R"({"envelope_sender": "not an address", "content": "x", "recipients": [{"email": "a@b.example"}]})";
  EXPECT_EQ(error_of(body), "\"envelope_sender\" is not an address (at byte 20)");
}

TEST(InjectRequestTest, BadRecipientsAreCollectedNotFatal) {
  absl::StatusOr<InjectRequest> r = parse_inject_request(with_recipients(
      R"([{"email": "ok@example.net"}, {"email": "no-at-sign"}, {"email": ""},
          {"email": "@relay:x@example.net"}, {"email": "a@b@c"}, {"email": "x@[1.2.3.4]"},
          {"email": "Ünï@exämple.org"}])"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->recipients.size(), 3u);
  EXPECT_EQ(r->recipients[2].email, "Ünï@exämple.org");
  EXPECT_TRUE(r->needs_smtputf8);
  ASSERT_EQ(r->failed_recipients.size(), 4u);
  EXPECT_EQ(r->failed_recipients[0].index, 1u);
  EXPECT_EQ(r->failed_recipients[0].email, "no-at-sign");
  EXPECT_EQ(r->failed_recipients[0].reason, "not an address");
  EXPECT_EQ(r->failed_recipients[3].index, 4u);
  std::string long_local(65, 'a');
  r = parse_inject_request(with_recipients("[{\"email\": \"" + long_local + "@example.org\"}]"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->failed_recipients.size(), 1u);
  EXPECT_THAT(r->failed_recipients[0].reason, HasSubstr("too long"));
}

TEST(InjectRequestTest, RecipientTypeErrorsNameTheIndexAndByte) {
  std::string body = with_recipients(R"([{"email": "a@b.example"}, {"email": 7}])");
  std::string e = error_of(body);
  EXPECT_THAT(e, HasSubstr("\"recipients[1].email\" must be a string (at byte "));
  EXPECT_THAT(e, HasSubstr("at byte " + std::to_string(body.find("7}")) + ")"));
  EXPECT_THAT(error_of(with_recipients(R"([{"substitutions": {}}])")),
              HasSubstr("\"recipients[0]\": missing required key \"email\""));
  EXPECT_THAT(error_of(with_recipients(R"(["a@b.example"])")), HasSubstr("\"recipients[0]\" must be an object"));
  EXPECT_THAT(error_of(with_recipients(R"({"email": "a@b.example"})")), HasSubstr("\"recipients\" must be an array"));
  EXPECT_THAT(error_of(with_recipients("[]")), HasSubstr("\"recipients\" must not be empty"));
  EXPECT_THAT(error_of(with_recipients(R"([{"email": "a@b.example", "name": "x"}])")),
              HasSubstr("\"recipients[0]\": unknown key \"name\""));
  EXPECT_TRUE(parse_inject_request(with_recipients(R"([{"email": "a@b.example", "metadata": {"any": [1]}}])")).ok());
}

TEST(InjectRequestTest, MalformedJsonNamesTheByte) {
  std::string body = with_recipients(R"([{"email": "a@b.example"} {"email": "c@d.example"}])");
  std::string e = error_of(body);
  EXPECT_THAT(e, HasSubstr("malformed JSON at byte "));
  EXPECT_THAT(error_of(R"({"envelope_sender": "", "content": "x", "recipients": [{"email": "a@b.example"}]} x)"),
              HasSubstr("malformed JSON at byte"));
  EXPECT_THAT(error_of("{\"envelope_sender\": \"\xff\"}"), HasSubstr("malformed JSON"));
  EXPECT_THAT(error_of("{\"envelope_sender\": \"abc"), HasSubstr("malformed JSON"));
  EXPECT_THAT(error_of(""), HasSubstr("malformed JSON"));
  EXPECT_THAT(error_of("[1, 2]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error_of(with_recipients(R"([{"email": "a@b.example", "substitutions": {"n": 01}}])")),
              HasSubstr("malformed JSON at byte"));
}

TEST(InjectRequestTest, RequiredUnknownAndDuplicateKeys) {
  EXPECT_EQ(error_of(R"({"content": "x", "recipients": [{"email": "a@b.example"}]})"),
            "missing required key \"envelope_sender\"");
  EXPECT_EQ(error_of(R"({"envelope_sender": "", "recipients": [{"email": "a@b.example"}]})"),
            "missing required key \"content\"");
  EXPECT_EQ(error_of(R"({"envelope_sender": "", "content": "x"})"), "missing required key \"recipients\"");
  EXPECT_EQ(error_of(R"({"envelope_sender": "", "recipient": []})"),
            "unknown top-level key \"recipient\" (value at byte 37)");
  EXPECT_THAT(error_of(R"({"envelope_sender": "", "envelope_sender": "a@b.example"})"),
              HasSubstr("duplicate key \"envelope_sender\""));
  EXPECT_TRUE(parse_inject_request(R"({"envelope_sender": "", "description": "d", "metadata": {"k": 1},
      "content": "x", "recipients": [{"email": "a@b.example"}]})").ok());
}

TEST(InjectRequestTest, SubstitutionRules) {
  auto subs = [](std::string_view s) {
    return with_recipients(std::string(R"([{"email": "a@b.example", "substitutions": )") + std::string(s) + "}]");
  };
  EXPECT_THAT(error_of(subs(R"({"a b": "x"})")), HasSubstr("substitution name is 1..64 of [A-Za-z0-9_.-], not key \"a b\""));
  EXPECT_THAT(error_of(subs("{\"" + std::string(65, 'k') + "\": \"x\"}")), HasSubstr("substitution name"));
  EXPECT_TRUE(parse_inject_request(subs("{\"" + std::string(64, 'k') + "\": \"x\"}")).ok());
  EXPECT_THAT(error_of(subs(R"({"a": true})")), HasSubstr("\"recipients[0].substitutions.a\" must be a string or a number"));
  EXPECT_THAT(error_of(subs(R"({"a": null})")), HasSubstr("must be a string or a number"));
  EXPECT_THAT(error_of(subs(R"({"a": {}})")), HasSubstr("must be a string or a number"));
  EXPECT_THAT(error_of(subs(R"({"a": "1", "a": "2"})")), HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(error_of(subs("[]")), HasSubstr("\"recipients[0].substitutions\" must be an object"));
  std::string big(64 * 1024, 'v');
  EXPECT_TRUE(parse_inject_request(subs("{\"a\": \"" + big + "\"}")).ok());
  EXPECT_THAT(error_of(subs("{\"a\": \"" + big + "v\"}")), HasSubstr("is longer than 65536 octets"));
  // Escapes are decoded; CR/LF are allowed here (template.h refuses them
  // in the header section).
  absl::StatusOr<InjectRequest> r = parse_inject_request(subs(R"({"a": "x\r\ny\u00e9"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->recipients[0].substitutions.at("a"), "x\r\ny\xc3\xa9");
  InjectLimits few;
  few.max_substitutions = 1;
  EXPECT_THAT(error_of(subs(R"({"a": "1", "b": "2"})"), few), HasSubstr("more than 1 substitutions"));
}

TEST(InjectRequestTest, RecipientLimit) {
  InjectLimits limits;
  limits.max_recipients = 2;
  std::string two = with_recipients(R"([{"email": "a@b.example"}, {"email": "c@d.example"}])");
  EXPECT_TRUE(parse_inject_request(two, limits).ok());
  std::string three = with_recipients(R"([{"email": "a@b.example"}, {"email": "c@d.example"}, {"email": "e@f.example"}])");
  std::string e = error_of(three, limits);
  EXPECT_THAT(e, HasSubstr("\"recipients\" has more than 2 entries (at byte " +
                           std::to_string(three.find("{\"email\": \"e@f")) + ")"));
}

TEST(InjectRequestTest, CampaignIdIsPrintableAscii) {
  auto body = [](std::string_view id) {
    return std::string(R"({"envelope_sender": "", "content": "x", "recipients": [{"email": "a@b.example"}], "campaign_id": )") +
           std::string(id) + "}";
  };
  EXPECT_TRUE(parse_inject_request(body(R"("c-1")")).ok());
  EXPECT_THAT(error_of(body(R"("a\nb")")), HasSubstr("\"campaign_id\" must be printable ASCII"));
  EXPECT_THAT(error_of(body("1")), HasSubstr("\"campaign_id\" must be a string"));
  EXPECT_THAT(error_of(body("\"" + std::string(256, 'c') + "\"")), HasSubstr("longer than 255"));
}

TEST(InjectRequestTest, CheckEmail) {
  std::string stored;
  bool utf8 = false;
  EXPECT_TRUE(check_email("User@Example.ORG", &stored, &utf8).ok());
  EXPECT_EQ(stored, "User@example.org");
  EXPECT_FALSE(check_email("<a@b.example>", &stored, &utf8).ok());
  EXPECT_FALSE(check_email("a@b.example> <c@d.example", &stored, &utf8).ok());
  EXPECT_FALSE(check_email("postmaster", &stored, &utf8).ok());
  EXPECT_FALSE(check_email("a@b.example\r\n", &stored, &utf8).ok());
}

}  // namespace
}  // namespace ringmta::proto

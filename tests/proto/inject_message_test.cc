// tests/proto/inject_message_test.cc — proto/inject_message.h: one message
// per recipient with substitutions, one shared message without, the SMTP
// end-of-data checks, trace headers.
#include "proto/inject_message.h"

#include <gtest/gtest.h>

#include <string>

namespace ringmta::proto {
namespace {

InjectBuildOptions options() {
  InjectBuildOptions o;
  o.hostname = "mta.example";
  o.client_addr = "192.0.2.1";
  o.now = absl::FromUnixSeconds(1'800'000'000);
  static int n = 0;
  o.new_queue_id = [] { return "Q" + std::to_string(n++); };
  return o;
}

InjectRequest parse(std::string_view json) {
  absl::StatusOr<InjectRequest> r = parse_inject_request(json);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(InjectMessage, OneMessagePerRecipientWithSubstitutions) {
  InjectRequest r = parse(R"({"envelope_sender":"b@x.example","content":"Subject: hi {{n}}\r\n\r\n{{n}} {{g}}\r\n",
      "recipients":[{"email":"a@y.example","substitutions":{"n":"A"}},{"email":"c@y.example"}],
      "substitutions":{"g":"G"}})");
  InjectBuild b = build_inject_messages(r, options());
  ASSERT_EQ(b.messages.size(), 2u);
  EXPECT_EQ(b.counts, (std::vector<size_t>{1, 1}));
  EXPECT_EQ(b.messages[0]->envelope.recipients, std::vector<std::string>{"a@y.example"});
  EXPECT_NE(b.messages[0]->body.find("Subject: hi A\r\n"), std::string::npos);
  EXPECT_NE(b.messages[0]->body.find("A G\r\n"), std::string::npos);
  EXPECT_NE(b.messages[1]->body.find("Subject: hi \r\n"), std::string::npos);  // unknown: empty
  EXPECT_NE(b.messages[0]->trace_headers.find("from [192.0.2.1] (192.0.2.1"), std::string::npos);
  EXPECT_NE(b.messages[0]->trace_headers.find("with HTTP id "), std::string::npos);
  EXPECT_NE(b.messages[0]->trace_headers.find("Message-ID: <"), std::string::npos);
  EXPECT_EQ(b.messages[0]->envelope.sender, "b@x.example");
}

TEST(InjectMessage, SharedMessageCutAtMaxRecipientsWithDuplicatesCounted) {
  InjectRequest r = parse(R"({"envelope_sender":"","content":"Subject: s\r\n\r\nx\r\n",
      "recipients":[{"email":"a@y.example"},{"email":"b@y.example"},{"email":"a@y.example"},{"email":"c@y.example"}]})");
  InjectBuildOptions o = options();
  o.max_recipients = 2;
  InjectBuild b = build_inject_messages(r, o);
  ASSERT_EQ(b.messages.size(), 2u);
  EXPECT_EQ(b.messages[0]->envelope.recipients, (std::vector<std::string>{"a@y.example", "b@y.example"}));
  EXPECT_EQ(b.messages[1]->envelope.recipients, std::vector<std::string>{"c@y.example"});
  EXPECT_EQ(b.counts, (std::vector<size_t>{3, 1}));
  EXPECT_TRUE(b.failed.empty());
}

TEST(InjectMessage, EndOfDataChecks) {
  InjectRequest r = parse(R"({"envelope_sender":"b@x.example",
      "content":"X-Ringmta-Campaign: from-header\r\nX-Ringmta-Tenant: t1\r\nSubject: s\r\n\r\nbody\r\n",
      "recipients":[{"email":"a@y.example"}],"campaign_id":"from-json"})");
  InjectBuild b = build_inject_messages(r, options());
  ASSERT_EQ(b.messages.size(), 1u);
  const CompletedMessage& m = *b.messages[0];
  EXPECT_EQ(m.body.find("X-Ringmta"), std::string::npos);  // control headers are taken out
  EXPECT_EQ(m.envelope.campaign, "from-json");
  EXPECT_EQ(m.envelope.tenant, "t1");

  InjectBuildOptions small = options();
  small.max_message_size = 100;
  InjectBuild big = build_inject_messages(r, small);
  EXPECT_TRUE(big.messages.empty());
  ASSERT_EQ(big.failed.size(), 1u);
  EXPECT_NE(big.failed[0].reason.find("--max-message-size"), std::string::npos);

  InjectBuildOptions policy = options();
  policy.require_list_unsubscribe = true;
  InjectBuild refused = build_inject_messages(r, policy);
  ASSERT_EQ(refused.failed.size(), 1u);
  EXPECT_NE(refused.failed[0].reason.find("List-Unsubscribe"), std::string::npos);
}

TEST(InjectMessage, LongLinesAndEightBit) {
  InjectRequest r = parse(R"({"envelope_sender":"b@x.example","content":"Subject: s\r\n\r\n)" + std::string(1200, 'x') +
                          R"( é\r\n","recipients":[{"email":"a@y.example"}]})");
  InjectBuild b = build_inject_messages(r, options());
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_TRUE(b.messages[0]->has_long_lines);
  EXPECT_EQ(b.messages[0]->envelope.body, BodyType::k8BitMime);
}

TEST(InjectMessage, InvalidRecipientsKeepTheirIndex) {
  InjectRequest r = parse(R"({"envelope_sender":"b@x.example","content":"Subject: {{v}}\r\n\r\nx\r\n",
      "recipients":[{"email":"bad"},{"email":"a@y.example","substitutions":{"v":"x\r\nBcc: z@z.example"}},
                    {"email":"c@y.example","substitutions":{"v":"ok"}}]})");
  InjectBuild b = build_inject_messages(r, options());
  ASSERT_EQ(b.messages.size(), 1u);
  ASSERT_EQ(b.failed.size(), 2u);
  EXPECT_EQ(b.failed[0].index, 0u);
  EXPECT_EQ(b.failed[1].index, 1u);
  EXPECT_EQ(b.failed[1].email, "a@y.example");
}

}  // namespace
}  // namespace ringmta::proto

// tests/proto/command_test.cc — command lines and their ESMTP parameters.
#include "proto/command.h"

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

TEST(CommandTest, VerbsAreCaseInsensitive) {
  EXPECT_EQ(parse_command("ehlo client.example").verb, Verb::kEhlo);
  EXPECT_EQ(parse_command("EhLo client.example").arg, "client.example");
  EXPECT_EQ(parse_command("HELO x").verb, Verb::kHelo);
  EXPECT_EQ(parse_command("data").verb, Verb::kData);
  EXPECT_EQ(parse_command("DATA").arg, "");
  EXPECT_EQ(parse_command("bdat 10 last").verb, Verb::kBdat);
  EXPECT_EQ(parse_command("RSET").verb, Verb::kRset);
  EXPECT_EQ(parse_command("NOOP").verb, Verb::kNoop);
  EXPECT_EQ(parse_command("QUIT").verb, Verb::kQuit);
  EXPECT_EQ(parse_command("VRFY x").verb, Verb::kVrfy);
  EXPECT_EQ(parse_command("EXPN x").verb, Verb::kExpn);
  EXPECT_EQ(parse_command("HELP").verb, Verb::kHelp);
  EXPECT_EQ(parse_command("StartTLS").verb, Verb::kStartTls);
  EXPECT_EQ(parse_command("AUTH PLAIN").verb, Verb::kAuth);
}

TEST(CommandTest, UnknownAndGluedVerbs) {
  EXPECT_EQ(parse_command("DATAX").verb, Verb::kUnknown);
  EXPECT_EQ(parse_command("").verb, Verb::kUnknown);
  EXPECT_EQ(parse_command(" DATA").verb, Verb::kUnknown);
  EXPECT_EQ(parse_command("GET / HTTP/1.0").verb, Verb::kUnknown);
}

TEST(CommandTest, TrailingBlanksAreTrimmed) {
  EXPECT_EQ(parse_command("DATA  ").verb, Verb::kData);
  EXPECT_EQ(parse_command("DATA  ").arg, "");
  EXPECT_EQ(parse_command("EHLO  x.example \t").arg, "x.example");
}

TEST(CommandTest, MailFromWithParameters) {
  MailArgs m;
  ASSERT_EQ(parse_mail_args("FROM:<A@B.example> SIZE=1000 BODY=8bitmime SMTPUTF8", &m),
            ArgStatus::kOk);
  EXPECT_EQ(address_text(m.sender), "A@b.example");
  EXPECT_EQ(m.size, 1000u);
  EXPECT_EQ(m.body, BodyType::k8BitMime);
  EXPECT_TRUE(m.smtputf8);
  ASSERT_EQ(parse_mail_args("from:<> BODY=7BIT", &m), ArgStatus::kOk);
  EXPECT_TRUE(m.sender.is_null);
  EXPECT_EQ(m.body, BodyType::k7Bit);
}

TEST(CommandTest, SpaceAfterColonIsTolerated) {
  MailArgs m;
  EXPECT_EQ(parse_mail_args("FROM: <a@b.example>", &m), ArgStatus::kOk);
  RcptArgs r;
  EXPECT_EQ(parse_rcpt_args("TO: <c@d.example>", false, &r), ArgStatus::kOk);
  EXPECT_EQ(address_text(r.recipient), "c@d.example");
}

TEST(CommandTest, MailFromErrors) {
  MailArgs m;
  EXPECT_EQ(parse_mail_args("", &m), ArgStatus::kSyntax);
  EXPECT_EQ(parse_mail_args("FROM:", &m), ArgStatus::kSyntax);
  EXPECT_EQ(parse_mail_args("FROM:a@b", &m), ArgStatus::kSyntax);
  EXPECT_EQ(parse_mail_args("TO:<a@b>", &m), ArgStatus::kSyntax);
  EXPECT_EQ(parse_mail_args("FROM:<a@b>X", &m), ArgStatus::kSyntax);
  EXPECT_EQ(parse_mail_args("FROM:<a@@b>", &m), ArgStatus::kBadAddress);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> FOO=1", &m), ArgStatus::kUnknownParam);
  EXPECT_EQ(m.bad_param, "FOO=1");
  EXPECT_EQ(parse_mail_args("FROM:<a@b> BODY=BINARYMIME", &m), ArgStatus::kBadParamValue);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> SIZE=", &m), ArgStatus::kBadParamValue);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> SIZE=12x", &m), ArgStatus::kBadParamValue);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> SIZE=99999999999999999999", &m),
            ArgStatus::kBadParamValue);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> SMTPUTF8=yes", &m), ArgStatus::kBadParamValue);
}

TEST(CommandTest, Utf8SenderNeedsTheParameter) {
  MailArgs m;
  EXPECT_EQ(parse_mail_args("FROM:<\xC3\xB6@b.example>", &m), ArgStatus::kNeedsSmtpUtf8);
  EXPECT_EQ(parse_mail_args("FROM:<\xC3\xB6@b.example> SMTPUTF8", &m), ArgStatus::kOk);
  RcptArgs r;
  EXPECT_EQ(parse_rcpt_args("TO:<\xC3\xB6@b.example>", false, &r), ArgStatus::kNeedsSmtpUtf8);
  EXPECT_EQ(parse_rcpt_args("TO:<\xC3\xB6@b.example>", true, &r), ArgStatus::kOk);
}

TEST(CommandTest, MailAuthParameterWhenAccepted) {
  MailArgs m;
  EXPECT_EQ(parse_mail_args("FROM:<a@b> AUTH=<>", &m), ArgStatus::kUnknownParam);
  EXPECT_EQ(m.bad_param, "AUTH=<>");
  EXPECT_EQ(parse_mail_args("FROM:<a@b> AUTH=<> SIZE=10", &m, true), ArgStatus::kOk);
  EXPECT_TRUE(m.has_auth);
  EXPECT_EQ(m.size, 10u);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> auth=e+3Dmc2@example.com", &m, true), ArgStatus::kOk);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> AUTH=", &m, true), ArgStatus::kBadParamValue);
  EXPECT_EQ(parse_mail_args("FROM:<a@b> AUTH", &m, true), ArgStatus::kBadParamValue);
  EXPECT_EQ(m.bad_param, "AUTH");
}

TEST(CommandTest, RcptTo) {
  RcptArgs r;
  EXPECT_EQ(parse_rcpt_args("TO:<>", false, &r), ArgStatus::kBadAddress);
  EXPECT_EQ(parse_rcpt_args("TO:<postmaster>", false, &r), ArgStatus::kOk);
  EXPECT_TRUE(r.recipient.is_postmaster);
  EXPECT_EQ(parse_rcpt_args("TO:<a@b> NOTIFY=NEVER", false, &r), ArgStatus::kUnknownParam);
  EXPECT_EQ(parse_rcpt_args("FROM:<a@b>", false, &r), ArgStatus::kSyntax);
  EXPECT_EQ(parse_rcpt_args("to:<@r.example:a@b.example>", false, &r), ArgStatus::kOk);
  EXPECT_EQ(address_text(r.recipient), "a@b.example");
}

TEST(CommandTest, Bdat) {
  BdatArgs b;
  ASSERT_TRUE(parse_bdat_args("100", &b));
  EXPECT_EQ(b.size, 100u);
  EXPECT_FALSE(b.last);
  ASSERT_TRUE(parse_bdat_args("0 LAST", &b));
  EXPECT_EQ(b.size, 0u);
  EXPECT_TRUE(b.last);
  ASSERT_TRUE(parse_bdat_args("7 last", &b));
  EXPECT_FALSE(parse_bdat_args("", &b));
  EXPECT_FALSE(parse_bdat_args("-1", &b));
  EXPECT_FALSE(parse_bdat_args("10 LASTX", &b));
  EXPECT_FALSE(parse_bdat_args("10 LAST x", &b));
  EXPECT_FALSE(parse_bdat_args("x10", &b));
  EXPECT_FALSE(parse_bdat_args("12345678901234567890", &b));
}

}  // namespace
}  // namespace ringmta::proto

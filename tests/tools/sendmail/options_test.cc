// tests/tools/sendmail/options_test.cc — sendmail(1) flags (tools/sendmail/options.h).
#include "tools/sendmail/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringmta::sendmail {
namespace {

Options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sendmail");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(SendmailOptions, RecipientsAndSenderJoinedOrSeparate) {
  Options o = parse({"-f", "me@x.test", "a@y.test", "b@y.test"});
  ASSERT_EQ(o.error, "");
  EXPECT_EQ(o.sender, "me@x.test");
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"a@y.test", "b@y.test"}));
  EXPECT_EQ(parse({"-fme@x.test", "a@y.test"}).sender, "me@x.test");
  EXPECT_EQ(parse({"-r", "me@x.test", "a@y.test"}).sender, "me@x.test");
  EXPECT_EQ(parse({"-f", "<>", "a@y.test"}).sender, "");  // the null sender
  EXPECT_EQ(parse({"-f", "", "a@y.test"}).sender, "");
  EXPECT_EQ(parse({"-f", "<me@x.test>", "a@y.test"}).sender, "me@x.test");
  EXPECT_EQ(parse({"-V+=", "a@y.test"}).recipients, (std::vector<std::string>{"a@y.test"}));
  EXPECT_EQ(parse({"-F", "Jane Doe", "a@y.test"}).full_name, "Jane Doe");
  EXPECT_EQ(parse({"-FJane", "a@y.test"}).full_name, "Jane");
}

TEST(SendmailOptions, FlagsAfterRecipientsAndDoubleDash) {
  Options o = parse({"a@y.test", "-f", "me@x.test", "-i"});
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"a@y.test"}));
  EXPECT_EQ(o.sender, "me@x.test");
  EXPECT_TRUE(o.ignore_dots);
  o = parse({"-i", "--", "-odd@y.test"});
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"-odd@y.test"}));
}

TEST(SendmailOptions, ClustersAndDotFlags) {
  Options o = parse({"-ti"});
  EXPECT_TRUE(o.extract_recipients);
  EXPECT_TRUE(o.ignore_dots);
  EXPECT_EQ(o.error, "");  // -t needs no argument recipients
  EXPECT_TRUE(parse({"-oi", "a@y.test"}).ignore_dots);
  EXPECT_FALSE(parse({"a@y.test"}).ignore_dots);
  o = parse({"-t", "-i", "-f", "me@x.test", "extra@y.test"});
  EXPECT_TRUE(o.extract_recipients);
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"extra@y.test"}));
}

TEST(SendmailOptions, Modes) {
  EXPECT_EQ(parse({"-bs"}).mode, Mode::kSmtpStdio);
  EXPECT_EQ(parse({"-bp"}).mode, Mode::kListQueue);
  EXPECT_EQ(parse({"-q"}).mode, Mode::kFlushQueue);
  EXPECT_EQ(parse({"-q30m"}).mode, Mode::kFlushQueue);
  EXPECT_EQ(parse({"-bi"}).mode, Mode::kNewAliases);
  EXPECT_EQ(parse({"-V"}).mode, Mode::kVersion);
  EXPECT_EQ(parse({"--version"}).mode, Mode::kVersion);
  EXPECT_EQ(parse({"-bm", "a@y.test"}).mode, Mode::kSend);
  const char* mailq[] = {"/usr/bin/mailq"};
  EXPECT_EQ(parse_options(1, mailq).mode, Mode::kListQueue);
  const char* newaliases[] = {"newaliases"};
  EXPECT_EQ(parse_options(1, newaliases).mode, Mode::kNewAliases);
}

TEST(SendmailOptions, AcceptedFlagsChangeNothingAndNeedNoWarning) {
  Options o = parse({"-N", "never", "-V", "-oem", "-odb", "-odi", "-oQ/tmp", "-U", "-B", "8BITMIME", "-h", "5",
                     "-L", "app", "-R", "hdrs", "-O", "x=y", "-X", "/tmp/log", "-m", "-n", "-d0.1", "a@y.test"});
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.mode, Mode::kSend);  // -V with recipients is Postfix's VERP flag, not the version
  EXPECT_TRUE(o.warnings.empty()) << o.warnings[0];
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"a@y.test"}));
}

TEST(SendmailOptions, UnknownFlagsAreIgnoredWithAWarning) {
  Options o = parse({"-x", "-Z", "a@y.test"});
  EXPECT_EQ(o.error, "");
  ASSERT_EQ(o.warnings.size(), 2u);
  EXPECT_EQ(o.warnings[0], "-x option ignored");
  EXPECT_EQ(parse({"-bd", "a@y.test"}).warnings.size(), 1u);
}

TEST(SendmailOptions, UsageErrors) {
  EXPECT_NE(parse({}).error, "");            // no recipients
  EXPECT_NE(parse({"-i"}).error, "");        // still none
  EXPECT_NE(parse({"a@y.test", "-f"}).error, "");  // -f without a value
  EXPECT_EQ(parse({"-bp"}).error, "");       // the queue needs no recipient
}

}  // namespace
}  // namespace ringmta::sendmail

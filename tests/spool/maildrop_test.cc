#include "spool/maildrop.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

MaildropEnvelope sample() {
  MaildropEnvelope e;
  e.sender = "app@example.com";
  e.recipients = {"a@example.net", "b@example.org"};
  e.arrival_us = 1764848123000000;
  e.origin = "sendmail uid=33";
  return e;
}

TEST(Maildrop, RoundTrip) {
  absl::StatusOr<std::string> f = maildrop_file(sample(), "Subject: x\r\n\r\nbody\r\n");
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<MaildropMessage> m = parse_maildrop(*f);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->envelope.sender, "app@example.com");
  EXPECT_EQ(m->envelope.recipients, (std::vector<std::string>{"a@example.net", "b@example.org"}));
  EXPECT_EQ(m->envelope.arrival_us, 1764848123000000);
  EXPECT_EQ(m->envelope.origin, "sendmail uid=33");
  EXPECT_EQ(m->content, "Subject: x\r\n\r\nbody\r\n");
}

TEST(Maildrop, NullSenderAndNoArrival) {
  MaildropEnvelope e;
  e.recipients = {"root@localhost"};
  absl::StatusOr<std::string> f = maildrop_file(e, "x");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, "ringmta-maildrop 1\nsender\nrcpt root@localhost\n\nx");
  absl::StatusOr<MaildropMessage> m = parse_maildrop(*f);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->envelope.sender, "");
  EXPECT_EQ(m->envelope.arrival_us, 0);
}

TEST(Maildrop, RefusesBadEnvelopes) {
  MaildropEnvelope e = sample();
  e.recipients.clear();
  EXPECT_FALSE(maildrop_file(e, "").ok());
  e = sample();
  e.recipients.push_back("a b@example.com");
  EXPECT_FALSE(maildrop_file(e, "").ok());
  e = sample();
  e.origin = "x\nrcpt evil@example.com";
  EXPECT_FALSE(maildrop_file(e, "").ok());
  e = sample();
  e.sender = std::string(600, 'a');
  EXPECT_FALSE(maildrop_file(e, "").ok());
}

TEST(Maildrop, ParseNamesTheBadLine) {
  EXPECT_EQ(parse_maildrop("garbage\n\n").status().message(), "line 1: not \"ringmta-maildrop 1\"");
  EXPECT_EQ(parse_maildrop("ringmta-maildrop 1\nsender\nrcpt a@b\nfoo bar\n\n").status().message(),
            "line 4: unknown key \"foo\"");
  EXPECT_EQ(parse_maildrop("ringmta-maildrop 1\nsender\nrcpt a@b\narrival -5\n\n").status().message(),
            "line 4: arrival is not a number of microseconds");
  EXPECT_FALSE(parse_maildrop("ringmta-maildrop 1\nsender\nrcpt a@b\n").ok());  // no empty line
  EXPECT_FALSE(parse_maildrop("ringmta-maildrop 1\nrcpt a@b\n\n").ok());        // no sender
  EXPECT_FALSE(parse_maildrop("ringmta-maildrop 1\nsender\n\n").ok());          // no recipient
  EXPECT_FALSE(parse_maildrop("ringmta-maildrop 1\nsender a\nsender b\nrcpt a@b\n\n").ok());
  EXPECT_FALSE(parse_maildrop("").ok());
}

TEST(Maildrop, WriteIsAtomicAndReadable) {
  testing::TempDir dir;
  ::umask(077);
  absl::StatusOr<std::string> name = write_maildrop(dir.path(), sample(), "body\r\n");
  ::umask(022);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_TRUE(is_maildrop_name(*name));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().filename().string(), *name);  // no temporary left
  }
  EXPECT_EQ(files, 1);
  std::string path = dir.path() + "/" + *name;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  absl::StatusOr<MaildropMessage> m = parse_maildrop(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->content, "body\r\n");
  EXPECT_FALSE(is_maildrop_name(".tmp"));
}

TEST(Maildrop, WriteIntoAMissingDirectoryNamesIt) {
  absl::StatusOr<std::string> name = write_maildrop("/nonexistent/maildrop", sample(), "x");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.status().message().find("/nonexistent/maildrop"), std::string::npos) << name.status();
}

}  // namespace
}  // namespace ringmta::spool

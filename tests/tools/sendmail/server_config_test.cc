// tests/tools/sendmail/server_config_test.cc — where ringmta-sendmail submits
// and keeps mail (tools/sendmail/server_config.h): environment, config file,
// defaults, in that order.
#include "tools/sendmail/server_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace ringmta::sendmail {
namespace {

class SubmitSettingsTest : public ::testing::Test {
 protected:
  std::string write_config(const std::string& text) {
    std::string path = ::testing::TempDir() + "sendmail_config_" + std::to_string(::getpid()) + "_" +
                       std::to_string(_files++) + ".toml";
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return path;
  }
  SubmitSettings load(const std::string& flag = "") {
    return load_submit_settings(
        [this](const char* k) -> const char* {
          auto it = _env.find(k);
          return it == _env.end() ? nullptr : it->second.c_str();
        },
        flag);
  }
  std::map<std::string, std::string> _env{{"RINGMTA_CONFIG", "/nonexistent-is-reported"}};
  int _files = 0;
};

TEST(HostPort, Forms) {
  EXPECT_EQ(parse_host_port("127.0.0.1:25")->port, 25);
  EXPECT_EQ(parse_host_port("[::1]:2525")->host, "::1");
  EXPECT_EQ(parse_host_port("mail.test:587")->host, "mail.test");
  EXPECT_FALSE(parse_host_port("127.0.0.1").ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1:0").ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1:70000").ok());
  EXPECT_FALSE(parse_host_port("::1:25").ok());  // IPv6 needs brackets
  EXPECT_FALSE(parse_host_port(":25").ok());
}

TEST_F(SubmitSettingsTest, DefaultsWhenTheNamedFileIsMissingAreReported) {
  SubmitSettings s = load();
  EXPECT_EQ(s.server_text, "127.0.0.1:2525");
  EXPECT_EQ(s.maildrop, "./ringmta-spool/maildrop");
  ASSERT_EQ(s.warnings.size(), 1u);  // an explicit $RINGMTA_CONFIG that cannot be read
}

TEST_F(SubmitSettingsTest, TheConfigFileThenTheEnvironment) {
  _env["RINGMTA_CONFIG"] = write_config("[spool]\ndir = \"/var/spool/r\"\n[submit]\nserver = \"10.0.0.1:25\"\n");
  SubmitSettings s = load();
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_EQ(s.server.host, "10.0.0.1");
  EXPECT_EQ(s.server.port, 25);
  EXPECT_EQ(s.maildrop, "/var/spool/r/maildrop");
  _env["RINGMTA_SERVER"] = "[::1]:2526";
  s = load();
  EXPECT_EQ(s.server.host, "::1");
  EXPECT_EQ(s.server.port, 2526);
}

TEST_F(SubmitSettingsTest, SubmitMaildropWinsAndEmptyTurnsItOff) {
  std::string cfg = write_config("[spool]\ndir = \"/s\"\n[submit]\nmaildrop = \"/drop\"\n");
  EXPECT_EQ(load(cfg).maildrop, "/drop");  // -C FILE
  cfg = write_config("[submit]\nmaildrop = \"\"\n");
  EXPECT_EQ(load(cfg).maildrop, "");
}

TEST_F(SubmitSettingsTest, MaxMessageSizeFromLimits) {
  EXPECT_EQ(load(write_config("[limits]\nmax_message_size = 10485760\n")).max_message_size, 10485760u);
  EXPECT_EQ(load(write_config("")).max_message_size, 0u);
  SubmitSettings s = load(write_config("[limits]\nmax_message_size = \"big\"\n"));
  EXPECT_EQ(s.max_message_size, 0u);
  EXPECT_EQ(s.warnings.size(), 1u);
}

TEST_F(SubmitSettingsTest, AdminUrlFromAdminListen) {
  EXPECT_EQ(load(write_config("[admin]\nlisten = [\"127.0.0.1:9000\", \"[::1]:9000\"]\n")).admin_url,
            "http://127.0.0.1:9000");
  EXPECT_EQ(load(write_config("[admin]\nlisten = [\"0.0.0.0:8025\"]\n")).admin_url, "http://127.0.0.1:8025");
  EXPECT_EQ(load(write_config("[admin]\nlisten = []\n")).admin_url, "");
  EXPECT_EQ(load(write_config("")).admin_url, "");
}

TEST_F(SubmitSettingsTest, ABadFileOrValueFallsBackWithAWarning) {
  SubmitSettings s = load(write_config("[submit\nserver = 1\n"));
  EXPECT_EQ(s.server_text, "127.0.0.1:2525");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("using the defaults"), std::string::npos);
  s = load(write_config("[submit]\nserver = 25\n"));
  EXPECT_NE(s.warnings[0].find("expected a string"), std::string::npos);
  s = load(write_config("[submit]\nserver = \"nohostport\"\n"));
  EXPECT_EQ(s.server_text, "127.0.0.1:2525");
  EXPECT_EQ(s.warnings.size(), 1u);
}

}  // namespace
}  // namespace ringmta::sendmail

#include "engine/config/config.h"
#include "engine/delivery/bounce_class.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ringmta {
namespace {

absl::StatusOr<ParsedConfig> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ringmta");
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

std::string write_file(const std::string& text) {
  char path[] = "/tmp/ringmta-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, EmbeddedDefaults) {
  auto c = parse({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.listen, (std::vector<std::string>{"127.0.0.1:2525", "[::1]:2525"}));
  EXPECT_TRUE(c->config.listen_is_default);
  EXPECT_EQ(c->config.spool_dir, "./ringmta-spool");
  EXPECT_EQ(c->config.max_message_size, 50ull << 20);
  EXPECT_EQ(c->config.relay_networks.size(), 2u);
  EXPECT_FALSE(c->config.hostname.empty());
}

TEST(Config, RepeatedListenReplacesTheDefault) {
  auto c = parse({"--listen", "127.0.0.1:3000", "--listen=127.0.0.2:3001"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.listen, (std::vector<std::string>{"127.0.0.1:3000", "127.0.0.2:3001"}));
  EXPECT_FALSE(c->config.listen_is_default);
}

TEST(Config, FileThenFlagsOverride) {
  std::string path = write_file(
      "[server]\nlisten = [\"127.0.0.1:4000\"]\nshards = 3\nhostname = \"mx.example\"\n"
      "[spool]\ndir = \"/tmp/x\"\n[limits]\nmax_recipients = 50\n"
      "[relay]\nlocal_domains = [\"Example.COM\"]\n");
  auto c = parse({"--shards", "2", "--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.listen, (std::vector<std::string>{"127.0.0.1:4000"}));
  EXPECT_EQ(c->config.shards, 2u);  // the flag wins over the file, whatever the order
  EXPECT_EQ(c->config.hostname, "mx.example");
  EXPECT_EQ(c->config.spool_dir, "/tmp/x");
  EXPECT_EQ(c->config.max_recipients, 50u);
  EXPECT_EQ(c->config.local_domains, (std::vector<std::string>{"example.com"}));
  std::remove(path.c_str());
}

TEST(Config, ErrorsNameTheKey) {
  std::string path = write_file("[limits]\nmax_recipients = \"many\"\n");
  auto c = parse({"--config", path});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("limits.max_recipients"), std::string::npos) << c.status();
  std::remove(path.c_str());

  path = write_file("[server]\nlisen = [\"x\"]\n");
  c = parse({"--config", path});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("server.lisen: unknown key"), std::string::npos) << c.status();
  std::remove(path.c_str());

  path = write_file("[server\n");
  c = parse({"--config", path});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(":1:"), std::string::npos) << c.status();
  std::remove(path.c_str());
}

TEST(Config, BadFlagsAreRefusedWithTheirName) {
  auto c = parse({"--shards", "lots"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--shards"), std::string::npos);
  c = parse({"--no-such-flag", "1"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown flag --no-such-flag"), std::string::npos);
  c = parse({"--relay-networks", "10.0.0.0/40"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--relay-networks"), std::string::npos);
  c = parse({"--spool"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("needs a value"), std::string::npos);
  c = parse({"--config", "/nonexistent/ringmta.toml"});
  ASSERT_FALSE(c.ok());
}

// No setting alone makes an open relay: a wide relay network needs
// --allow-open-relay true beside it.
TEST(Config, WideRelayNetworksNeedAllowOpenRelay) {
  for (const char* net : {"0.0.0.0/0", "::/0", "10.0.0.0/7", "2001:db8::/31"}) {
    auto c = parse({"--relay-networks", net});
    ASSERT_FALSE(c.ok()) << net;
    EXPECT_NE(c.status().message().find("makes ringmta an open relay"), std::string::npos) << c.status();
    EXPECT_NE(c.status().message().find("--allow-open-relay true"), std::string::npos);
    EXPECT_TRUE(parse({"--relay-networks", net, "--allow-open-relay", "true"}).ok()) << net;
  }
  for (const char* net : {"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}) {
    EXPECT_TRUE(parse({"--relay-networks", net}).ok()) << net;
  }
  std::string file = write_file("[relay]\nnetworks = [\"0.0.0.0/0\"]\nallow_open_relay = true\n");
  EXPECT_TRUE(parse({"--config", file}).ok());
  unlink(file.c_str());
}

TEST(Config, AuthAndLimits) {
  absl::StatusOr<ParsedConfig> c = parse({"--auth-users", "/etc/u"});
  ASSERT_FALSE(c.ok());  // AUTH under TLS needs a certificate
  EXPECT_NE(c.status().message().find("--tls-cert"), std::string::npos);
  c = parse({"--auth-users", "/etc/u", "--auth-require-tls", "false", "--auth-required", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->config.auth_require_tls);
  EXPECT_TRUE(c->config.auth_required);
  c = parse({"--auth-required", "true"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("needs --auth-users"), std::string::npos);
  c = parse({"--auth-required", "yes"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("expected true or false"), std::string::npos);
  c = parse({"--relay-networks", ""});  // nobody relays without AUTH
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->config.relay_networks.empty());
  c = parse({"--max-connections-per-ip", "3", "--max-connect-rate", "0", "--max-auth-failures", "5",
             "--min-data-rate", "100", "--max-session-time", "60", "--max-junk-commands", "7",
             "--user", "mail"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.max_connections_per_ip, 3u);
  EXPECT_EQ(c->config.max_connect_rate, 0u);
  EXPECT_EQ(c->config.max_auth_failures, 5u);
  EXPECT_EQ(c->config.min_data_rate, 100u);
  EXPECT_EQ(c->config.max_session_time_s, 60u);
  EXPECT_EQ(c->config.max_junk_commands, 7u);
  EXPECT_EQ(c->config.user, "mail");
}

TEST(Config, MemoryBudget) {
  auto c = parse({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->config.memory_budget, 256ull << 20);
  c = parse({"--memory-budget", "0"});  // every message read back from the spool
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.memory_budget, 0u);
  std::string path = write_file("[spool]\nmemory_budget = 1048576\n");
  c = parse({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.memory_budget, 1u << 20);
  std::remove(path.c_str());
  c = parse({"--memory-budget", "-1"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--memory-budget"), std::string::npos);
}

TEST(Config, BounceClasses) {
  auto c = parse({});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_NE(c->config.bounce_classifier, nullptr);  // the built-in rules
  EXPECT_TRUE(c->config.bounce_classes_file.empty());
  EXPECT_EQ(c->config.bounce_classifier->classify("550 5.1.1 user unknown"), BounceClass::kInvalidRecipient);

  std::string rules = write_file("[[rule]]\nclass = \"SpamBlock\"\nregex = '^5'\n");
  c = parse({"--bounce-classes", rules});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.bounce_classifier->classify("550 5.1.1 user unknown"), BounceClass::kSpamBlock);
  std::string path = write_file("[delivery]\nbounce_classes = \"" + rules + "\"\n");
  c = parse({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.bounce_classes_file, rules);
  EXPECT_EQ(c->config.bounce_classifier->rules(), 1u);
  std::remove(path.c_str());

  std::ofstream(rules) << "[[rule]]\nclass = \"SpamBlock\"\nregex = ['ok', '+bad']\n";
  c = parse({"--bounce-classes", rules});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bounce classes " + rules + ": rule 1 (line 1): regex 2 '+bad'"),
            std::string::npos)
      << c.status();
  std::remove(rules.c_str());
  c = parse({"--bounce-classes", rules});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cannot read the file"), std::string::npos) << c.status();
  c = parse({"--bounce-classes", ""});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--bounce-classes: expected the path"), std::string::npos) << c.status();
}

TEST(Config, HelpListsEveryFlagWithDefault) {
  std::string help = help_text();
  for (const char* flag : {"--listen", "--spool", "--shards", "--config", "--hostname", "--log-level",
                           "--relay-networks", "--local-domains", "--max-message-size",
                           "--timeout-command", "--segment-size", "--memory-budget", "--bounce-classes", "--version",
                           "--help"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find("[127.0.0.1:2525,[::1]:2525]"), std::string::npos);
}

}  // namespace
}  // namespace ringmta

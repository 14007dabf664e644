// tests/tools/postfix/postfix_config_test.cc — main.cf and master.cf
// readers, $name expansion, Postfix time units, and the mapping's corner
// cases (tables, IPv6, zero limits, dane, submission and smtps listeners).
#include "tools/postfix/postfix_config.h"

#include <gtest/gtest.h>

namespace ringmta::postfix {
namespace {

TEST(PostfixConfig, MainCfContinuationsCommentsAndExpansion) {
  PostfixParams p = parse_main_cf(
      "# comment\n"
      "myhostname = mx.example.com\n"
      "mydomain=example.com\n"
      "mydestination = $myhostname,\n"
      "    localhost.$mydomain\n"
      "  # an indented comment is still a comment\n"
      "\tlocalhost\n"
      "relay_domains = ${mydomain} $(unknown) $$x\n"
      "loop = $loop\n");
  expand_params(&p, {{"unknown", "from-defaults"}});
  EXPECT_EQ(p["myhostname"], "mx.example.com");
  EXPECT_EQ(p["mydestination"], "mx.example.com, localhost.example.com localhost");
  EXPECT_EQ(p["relay_domains"], "example.com from-defaults $x");  // $$ is a literal $
  EXPECT_EQ(p["loop"], "");                                       // bounded, not endless
}

TEST(PostfixConfig, MasterCf) {
  std::vector<MasterService> s = parse_master_cf(
      "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
      "smtp      inet  n       -       y       -       -       smtpd\n"
      "submission inet n       -       y       -       -       smtpd\n"
      "  -o syslog_name=postfix/submission\n"
      "  -o smtpd_tls_security_level=encrypt\n"
      "127.0.0.1:10025 inet n  -       n       -       -       smtpd -o smtpd_tls_wrappermode=yes\n"
      "relay     unix  -       -       y       -       -       smtp\n");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1].name, "submission");
  EXPECT_EQ(s[1].overrides.at("smtpd_tls_security_level"), "encrypt");
  EXPECT_EQ(s[2].name, "127.0.0.1:10025");
  EXPECT_EQ(s[2].overrides.at("smtpd_tls_wrappermode"), "yes");
  EXPECT_EQ(s[3].type, "unix");
  EXPECT_EQ(s[3].command, "smtp");
}

TEST(PostfixConfig, TimeUnits) {
  int64_t s = 0;
  EXPECT_TRUE(parse_postfix_time("5d", 's', &s));
  EXPECT_EQ(s, 5 * 86400);
  EXPECT_TRUE(parse_postfix_time("3", 'd', &s));
  EXPECT_EQ(s, 3 * 86400);
  EXPECT_TRUE(parse_postfix_time("300s", 'd', &s));
  EXPECT_EQ(s, 300);
  EXPECT_TRUE(parse_postfix_time("2w", 's', &s));
  EXPECT_EQ(s, 14 * 86400);
  EXPECT_TRUE(parse_postfix_time("90m", 's', &s));
  EXPECT_EQ(s, 5400);
  EXPECT_FALSE(parse_postfix_time("5y", 's', &s));
  EXPECT_FALSE(parse_postfix_time("", 's', &s));
  EXPECT_FALSE(parse_postfix_time("-1", 's', &s));
}

TEST(PostfixConfig, MappingCornerCases) {
  PostfixParams set = {
      {"inet_interfaces", "all"},
      {"inet_protocols", "all"},
      {"mynetworks", "127.0.0.0/8, [::1]/128, 192.0.2.7, cidr:/etc/postfix/nets"},
      {"message_size_limit", "0"},
      {"smtp_tls_security_level", "dane"},
      {"relayhost", "smart.example.com"},
      {"transport_maps", "texthash:/t, regexp:/r"},
      {"queue_directory", "/var/spool/postfix"},
  };
  std::vector<MasterService> services = parse_master_cf(
      "smtp      inet  n       -       y       -       -       smtpd\n"
      "smtps     inet  n       -       y       -       -       smtpd\n");
  ImportResult r = map_postfix_config(
      set, services,
      [](const std::string& path) -> absl::StatusOr<std::string> {
        if (path != "/t") return absl::NotFoundError(path);
        return std::string(
            "a.example smtp:[2001:db8::1]:2525\nb.example error:gone\n* smtp:[x.example]\n"
            "c.example lmtp:inet:10.1.1.1:2424\nd.example lmtp:unix:/run/dovecot/lmtp\ne.example lmtp:[10.1.1.2]\n");
      },
      "test");
  const std::string& t = r.toml;
  EXPECT_NE(t.find("listen = [\"0.0.0.0:25\", \"[::]:25\"]"), std::string::npos) << t;
  EXPECT_NE(t.find("listen_tls = [\"0.0.0.0:465\", \"[::]:465\"]"), std::string::npos) << t;
  EXPECT_NE(t.find("networks = [\"127.0.0.0/8\", \"::1/128\", \"192.0.2.7/32\"]"), std::string::npos) << t;
  EXPECT_NE(t.find("NOTE: mynetworks entry cidr:/etc/postfix/nets is a table"), std::string::npos) << t;
  EXPECT_NE(t.find("max_message_size = 4294967296"), std::string::npos) << t;
  EXPECT_NE(t.find("outbound_tls = \"required\""), std::string::npos) << t;
  EXPECT_NE(t.find("does not check DANE"), std::string::npos) << t;
  EXPECT_NE(t.find("relay_host = \"smart.example.com:25\""), std::string::npos) << t;
  EXPECT_NE(t.find("Postfix looks up its MX"), std::string::npos) << t;
  EXPECT_NE(t.find("routes = [\"a.example=[2001:db8::1]:2525\", \"c.example=lmtp:10.1.1.1:2424\", "
                   "\"d.example=lmtp:unix:/run/dovecot/lmtp\", \"e.example=lmtp:10.1.1.2:24\"]"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# transport_maps b.example error:gone  # transport error (error) has no ringmta equivalent"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# transport_maps * smtp:[x.example]  # ringmta routes whole domains only"), std::string::npos) << t;
  EXPECT_NE(t.find("# transport_maps regexp:/r  # table type not readable here"), std::string::npos) << t;
  EXPECT_NE(t.find("# queue_directory = /var/spool/postfix  # no ringmta equivalent"), std::string::npos) << t;
  EXPECT_EQ(t.find("# relayhost"), std::string::npos) << t;
}

}  // namespace
}  // namespace ringmta::postfix

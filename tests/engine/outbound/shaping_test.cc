// tests/engine/outbound/shaping_test.cc — rates, the GCRA, the precedence
// of the shaping tables, and reading them from TOML with their errors.
#include "engine/outbound/shaping.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/config/shaping_file.h"
#include "engine/outbound/backoff_rules.h"
#include "gtest/gtest.h"

namespace ringmta {
namespace {

constexpr int64_t kS = 1'000'000'000;

TEST(Rate, Parses) {
  Rate r;
  ASSERT_TRUE(parse_rate("100/s", &r));
  EXPECT_EQ(r, (Rate{100, kS, 100}));
  ASSERT_TRUE(parse_rate(" 20/min ", &r));
  EXPECT_EQ(r, (Rate{20, 60 * kS, 20}));
  ASSERT_TRUE(parse_rate("1000/h", &r));
  EXPECT_EQ(r.period_ns, 3600 * kS);
  ASSERT_TRUE(parse_rate("50000/day", &r));
  EXPECT_EQ(r.period_ns, 86400 * kS);
  ASSERT_TRUE(parse_rate("3/10min", &r));
  EXPECT_EQ(r, (Rate{3, 600 * kS, 3}));
  ASSERT_TRUE(parse_rate("100/s,max_burst=10", &r));
  EXPECT_EQ(r, (Rate{100, kS, 10}));
  for (const char* bad : {"", "100", "/s", "0/s", "100/", "100/week", "100/s,burst=3", "100/s,max_burst=0",
                          "-1/s", "1.5/s", "100/0s", "2000000000/s", "x/s"}) {
    EXPECT_FALSE(parse_rate(bad, &r)) << bad;
  }
}

TEST(Rate, FormatsBack) {
  for (const char* text : {"100/s", "20/min", "1000/h", "50000/day", "3/10min", "100/s,max_burst=10"}) {
    Rate r;
    ASSERT_TRUE(parse_rate(text, &r)) << text;
    EXPECT_EQ(format_rate(r), text);
  }
}

TEST(Duration, Parses) {
  int64_t ms = 0;
  ASSERT_TRUE(parse_duration("30m", &ms));
  EXPECT_EQ(ms, 30 * 60 * 1000);
  ASSERT_TRUE(parse_duration("45", &ms));
  EXPECT_EQ(ms, 45000);
  ASSERT_TRUE(parse_duration("2h", &ms));
  EXPECT_EQ(ms, 7200 * 1000);
  for (const char* bad : {"", "0s", "m", "10 parsecs", "31d"}) {
    EXPECT_FALSE(parse_duration(bad, &ms)) << bad;
  }
}

TEST(Gcra, BurstThenSteadyRate) {
  Rate r;
  ASSERT_TRUE(parse_rate("10/s,max_burst=3", &r));
  Gcra g;
  int64_t now = 5 * kS;
  EXPECT_EQ(g.take(r, now), 0);
  EXPECT_EQ(g.take(r, now), 0);
  EXPECT_EQ(g.take(r, now), 0);
  const int64_t wait = g.take(r, now);
  EXPECT_EQ(wait, kS / 10) << "the fourth waits one interval";
  EXPECT_EQ(g.take(r, now + wait - 1), 1);
  EXPECT_EQ(g.take(r, now + wait), 0);
}

TEST(Gcra, LongRunMatchesTheRate) {
  // Take whenever allowed, for 100 simulated seconds: 20/s gives the burst
  // plus 20 per second, nothing more.
  Rate r;
  ASSERT_TRUE(parse_rate("20/s", &r));
  Gcra g;
  int64_t now = 0;
  uint64_t taken = 0;
  while (now < 100 * kS) {
    int64_t w = g.take(r, now);
    if (w == 0) {
      ++taken;
    } else {
      now += w;
    }
  }
  EXPECT_GE(taken, 20u * 100);
  EXPECT_LE(taken, 20u * 100 + 20);
}

TEST(Shaping, Precedence) {
  Shaping s;
  s.defaults.connection_limit = 10;
  s.defaults.max_message_rate = Rate{100, kS, 100};
  DomainRule& ex = s.domains["example.com"];
  ex.params.max_message_rate = Rate{20, kS, 20};
  ex.sources["ip-1"].connection_limit = 2;
  SiteLimits base;
  base.connection_limit = 20;
  base.max_deliveries_per_connection = 1000;

  SiteLimits other = s.limits_for({"other.test"}, "ip-1", base);
  EXPECT_EQ(other.connection_limit, 10u);
  EXPECT_EQ(other.max_message_rate->count, 100u);
  EXPECT_EQ(other.max_deliveries_per_connection, 1000u) << "the flag's default";
  EXPECT_EQ(other.max_recipients_per_message, 100u);

  SiteLimits site = s.limits_for({"other.test", "example.com"}, "ip-2", base);
  EXPECT_EQ(site.connection_limit, 10u);
  EXPECT_EQ(site.max_message_rate->count, 20u) << "a domain rule applies to its whole site";

  SiteLimits src = s.limits_for({"example.com"}, "ip-1", base);
  EXPECT_EQ(src.connection_limit, 2u) << "domain+source beats domain and default";
  EXPECT_EQ(src.max_message_rate->count, 20u);
  EXPECT_FALSE(s.limits_for({"x.test"}, "", SiteLimits{}).max_connection_rate);
}

class ShapingFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    char path[] = "/tmp/shaping-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    std::ofstream(path) << text;
    _paths.emplace_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : _paths) {
      unlink(p.c_str());
    }
  }
  std::vector<std::string> _paths;
};

TEST_F(ShapingFile, ReadsTheTables) {
  std::string f = write(R"(
[server]
listen = ["127.0.0.1:2525"]
[shaping.default]
connection_limit = 10
max_connection_rate = "100/min"
max_message_rate = "100/s"
max_deliveries_per_connection = 100
max_recipients_per_message = 50
[shaping.domain."Example.COM"]
max_message_rate = "20/s,max_burst=2"
mx_rollup = false
[shaping.domain."example.com".source."ip-1"]
connection_limit = 2
)");
  absl::StatusOr<Shaping> s = load_shaping(f, "");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->defaults.connection_limit, 10u);
  EXPECT_EQ(s->defaults.max_connection_rate, (Rate{100, 60 * kS, 100}));
  EXPECT_EQ(s->defaults.max_recipients_per_message, 50u);
  const DomainRule* r = s->rule_for("example.com");
  ASSERT_NE(r, nullptr) << "domain names are lower-cased";
  EXPECT_FALSE(r->mx_rollup);
  EXPECT_EQ(r->params.max_message_rate, (Rate{20, kS, 2}));
  EXPECT_EQ(r->sources.at("ip-1").connection_limit, 2u);
}

TEST_F(ShapingFile, ASeparateFile) {
  std::string shaping = write("[shaping.default]\nconnection_limit = 3\n");
  std::string main = write("[shaping]\nfile = \"x\"\n");
  absl::StatusOr<Shaping> s = load_shaping(main, shaping);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->defaults.connection_limit, 3u);
  std::string both = write("[shaping.default]\nconnection_limit = 4\n");
  s = load_shaping(both, shaping);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("keep them in one place"), std::string::npos) << s.status();
}

TEST_F(ShapingFile, ErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[shaping.default]\nconnection_limit = 0\n", "shaping.default.connection_limit: expected a whole number"},
      {"[shaping.default]\nconnection_limit = \"5\"\n", "shaping.default.connection_limit: expected a whole number"},
      {"[shaping.default]\nmax_message_rate = \"fast\"\n", "shaping.default.max_message_rate: expected a rate"},
      {"[shaping.default]\nconection_limit = 5\n", "shaping.default.conection_limit: unknown key"},
      {"[shaping.domain.\"a.test\"]\nmx_rollup = 1\n", "shaping.domain.\"a.test\".mx_rollup: expected true or false"},
      {"[shaping.domain.\"a.test\".source.\"ip-1\"]\nmx_rollup = true\n",
       "shaping.domain.\"a.test\".source.\"ip-1\".mx_rollup: unknown key"},
      {"[shaping.domain.\"a b\"]\nconnection_limit = 1\n", "expected a domain name"},
      {"[shaping.defaults]\nconnection_limit = 1\n", "shaping.defaults: unknown key"},
      {"[shaping.default]\nconnection_limit = 1\nconnection_limit = 2\n", ":3:"},
  };
  for (const Case& c : cases) {
    std::string f = write(c.text);
    absl::StatusOr<Shaping> s = load_shaping(f, "");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos) << s.status() << "\nwanted: " << c.expect;
    EXPECT_NE(s.status().message().find(f), std::string::npos) << "names the file";
  }
  absl::StatusOr<Shaping> missing = load_shaping("", "/nonexistent/shaping.toml");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace ringmta

namespace ringmta {
namespace {

TEST_F(ShapingFile, ReadsBackoffRules) {
  std::string f = write(R"(
[[shaping.rule]]
regex = ['^421 4\.7\.0 .*(rate|too many)', 'TSS04']
action = "suspend"
duration = "30m"
[[shaping.rule]]
regex = '^451 4\.7\.1 slow down'
action = "throttle"
duration = "10m"
max_message_rate = "1/min"
connection_limit = 1
domain = "Yahoo.com"
trigger = "3/10min"
[[shaping.rule]]
regex = 'connect to .* refused'
action = "suspend"
duration = "1m"
match_internal = true
[[shaping.rule]]
regex = '^452 4\.2\.2 '
action = "bounce"
)");
  absl::StatusOr<Shaping> s = load_shaping(f, "");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_NE(s->rules, nullptr);
  const BackoffRules& r = *s->rules;
  ASSERT_EQ(r.rules().size(), 4u);
  EXPECT_EQ(r.rules()[0].name, "rule 1");
  EXPECT_EQ(r.rules()[0].duration_ms, 30 * 60 * 1000);
  EXPECT_EQ(r.rules()[1].action, BackoffAction::kThrottle);
  EXPECT_EQ(r.rules()[1].throttle.connection_limit, 1u);
  EXPECT_EQ(r.rules()[1].domain, "yahoo.com");
  EXPECT_EQ(r.rules()[1].trigger->count, 3u);

  auto match = [&](std::string_view line, bool internal) {
    std::vector<size_t> hit;
    r.match(line, internal, &hit);
    std::sort(hit.begin(), hit.end());
    return hit;
  };
  EXPECT_EQ(match("421 4.7.0 too many connections from your IP", false), (std::vector<size_t>{0}));
  EXPECT_EQ(match("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred", false),
            (std::vector<size_t>{0}));
  EXPECT_EQ(match("554 5.7.1 [TSS04] whatever", false), (std::vector<size_t>{0})) << "any pattern of a rule";
  EXPECT_EQ(match("451 4.7.1 slow down please", false), (std::vector<size_t>{1}));
  EXPECT_EQ(match("452 4.2.2 mailbox full", false), (std::vector<size_t>{3}));
  EXPECT_TRUE(match("250 2.0.0 ok", false).empty());
  EXPECT_EQ(match("451 4.4.1 connect to mx[192.0.2.1]: Connection refused", false), (std::vector<size_t>{2}))
      << "match_internal adds ringmta's own replies to the remote ones";
  EXPECT_EQ(match("451 4.4.1 connect to mx[192.0.2.1]: Connection refused", true), (std::vector<size_t>{2}));
  EXPECT_TRUE(match("421 4.7.0 rate limited", true).empty()) << "a ringmta-made reply needs match_internal";
  // Past kMaxMatchBytes a reply is not looked at.
  EXPECT_TRUE(match(std::string(BackoffRules::kMaxMatchBytes, 'x') + " TSS04", false).empty());
}

TEST_F(ShapingFile, BackoffRuleErrors) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[[shaping.rule]]\naction = \"suspend\"\nduration = \"1m\"\n", "rule[1]: needs regex"},
      {"[[shaping.rule]]\nregex = 'x'\nduration = \"1m\"\n", "rule[1]: needs action"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"pause\"\nduration = \"1m\"\n", "rule[1].action: expected"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"suspend\"\n", "rule[1]: needs duration"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"throttle\"\nduration = \"1m\"\n", "a throttle needs"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"suspend\"\nduration = \"1m\"\nconnection_limit = 1\n",
       "belong to action = \"throttle\""},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"suspend\"\nduration = \"soon\"\n", "rule[1].duration"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"suspend\"\nduration = \"1m\"\n[[shaping.rule]]\n"
       "regex = ['ok', '(unclosed']\naction = \"suspend\"\nduration = \"1m\"\n",
       "rule 2: regex '(unclosed': missing )"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"bounce\"\ntenant = \"acme\"\n", "only a suspend rule"},
      {"[[shaping.rule]]\nregex = 'x'\naction = \"bounce\"\nwhen = 3\n", "rule[1].when: unknown key"},
  };
  for (const Case& c : cases) {
    std::string f = write(c.text);
    absl::StatusOr<Shaping> s = load_shaping(f, "");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos) << s.status() << "\nwanted: " << c.expect;
  }
}

}  // namespace
}  // namespace ringmta

namespace ringmta {
namespace {

TEST(ShapingExample, TheShippedExampleLoads) {
  const char* root = std::getenv("RINGMTA_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "meson sets RINGMTA_SOURCE_ROOT";
  absl::StatusOr<Shaping> s = load_shaping("", std::string(root) + "/tools/shaping-example.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NE(s->rule_for("gmail.com"), nullptr);
  ASSERT_NE(s->rules, nullptr);
  std::vector<size_t> hit;
  s->rules->match("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred", false, &hit);
  EXPECT_FALSE(hit.empty());
}

}  // namespace
}  // namespace ringmta

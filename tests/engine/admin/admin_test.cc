// tests/engine/admin/admin_test.cc — the admin API's pieces that need no
// ring: tokens and trusted networks (admin_access.h), the durable
// suspensions and holds (admin_state.h), queue lines from the shards'
// rows (queue_view.h), the domain interning (delivery/domain_ids.h).
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/admin/admin_access.h"
#include "engine/admin/admin_state.h"
#include "engine/admin/queue_view.h"
#include "engine/delivery/domain_ids.h"
#include "gtest/gtest.h"

namespace ringmta {
namespace {

sockaddr_in v4(const char* ip) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/ringmta-admin-test.XXXXXX";
  return mkdtemp(tmpl);
}

TEST(AdminAccess, TrustedNetworksThenTokens) {
  AdminAccess a({*Cidr::parse("127.0.0.1/32")}, {"0123456789abcdef-token"});
  const sockaddr_in lo = v4("127.0.0.1"), other = v4("127.0.0.2");
  const auto* plo = reinterpret_cast<const sockaddr*>(&lo);
  const auto* pother = reinterpret_cast<const sockaddr*>(&other);
  EXPECT_EQ(a.check(plo, nullptr), AdminAccess::Verdict::kAllowed);
  EXPECT_EQ(a.check(pother, nullptr), AdminAccess::Verdict::kNoToken);
  const std::string good = "Bearer 0123456789abcdef-token", lower = "bearer 0123456789abcdef-token";
  const std::string bad = "Bearer 0123456789abcdef-tokeN", prefix = "Bearer 0123456789abcdef", basic = "Basic eA==";
  EXPECT_EQ(a.check(pother, &good), AdminAccess::Verdict::kAllowed);
  EXPECT_EQ(a.check(pother, &lower), AdminAccess::Verdict::kAllowed);
  EXPECT_EQ(a.check(pother, &bad), AdminAccess::Verdict::kBadToken);
  EXPECT_EQ(a.check(pother, &prefix), AdminAccess::Verdict::kBadToken);
  EXPECT_EQ(a.check(pother, &basic), AdminAccess::Verdict::kBadToken);
}

TEST(AdminAccess, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_FALSE(constant_time_equals("", "a"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(AdminAccess, TokenFileChecks) {
  const std::string dir = temp_dir();
  Config c;
  c.admin_tokens_file = dir + "/tokens";
  std::ofstream(c.admin_tokens_file) << "# comment\n\nshort\n";
  chmod(c.admin_tokens_file.c_str(), 0600);
  auto r = AdminAccess::load(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("too easy to guess"), std::string::npos);
  std::ofstream(c.admin_tokens_file) << "# comment\n  0123456789abcdef0123  \n";
  r = AdminAccess::load(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokens(), 1u);
  chmod(c.admin_tokens_file.c_str(), 0644);
  r = AdminAccess::load(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("chmod 600"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

TEST(AdminState, ChangesAreDurableAndEndedSuspensionsGo) {
  const std::string dir = temp_dir();
  {
    auto s = AdminState::open(dir);
    ASSERT_TRUE(s.ok());
    auto after = (*s)->change(
        [](std::vector<AdminBlock>& l) {
          l.push_back({"a.example", false, 2000, "tab\there", 1000});
          l.push_back({"b.example", true, 0, "legal", 1000});
          l.push_back({"gone.example", false, 1500, "", 1000});
        },
        1000);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->blocks.size(), 3u);
    EXPECT_EQ(after->version, 1u);
    EXPECT_EQ((*s)->blocks(1600).size(), 2u);  // gone.example's time is up
  }
  auto s = AdminState::open(dir);  // as after a restart
  ASSERT_TRUE(s.ok()) << s.status();
  auto blocks = (*s)->blocks(1000);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].domain, "a.example");
  EXPECT_EQ(blocks[0].reason, "tab here");  // tabs cannot break the file
  EXPECT_TRUE(blocks[1].hold);
  auto after = (*s)->change([](std::vector<AdminBlock>&) {}, 1600);  // a change prunes what ended
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->blocks.size(), 2u);

  std::ofstream(dir + "/admin-blocks.tsv") << "broken line\n";
  auto broken = AdminState::open(dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(std::string(broken.status().message()).find("line 1"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

TEST(QueueView, SitesCountTheirDomainsWaitingMailAndBlocksShow) {
  std::vector<AdminCallPtr> replies;
  auto a = std::make_unique<AdminCall>();
  a->sites.push_back(SiteRow{"mx:mx1.example.net", "", {"x.example", "y.example"}, 2, 3, 1, 1, 100, "ready"});
  a->domains.push_back(DomainRow{"x.example", 5, 5, 50, 200, "451 try later", 90});
  a->domains.push_back(DomainRow{"z.example", 1, 2, 70, 300, "", 0});
  auto b = std::make_unique<AdminCall>();
  b->domains.push_back(DomainRow{"x.example", 1, 1, 40, 250, "451 newer", 95});
  b->domains.push_back(DomainRow{"z.example", 4, 4, 80, 200, "", 0});
  replies.push_back(std::move(a));
  replies.push_back(std::move(b));
  const std::string out = render_queues(replies, {AdminBlock{"z.example", true, 0, "audit", 1}}, 1000);
  // The site: its 2 in flight and x.example's 6 waiting; oldest 40; the newer error.
  EXPECT_NE(out.find("{\"queue\":\"mx:mx1.example.net\",\"kind\":\"site\",\"source\":\"\",\"domains\":[\"x.example\","
                     "\"y.example\"],\"messages\":8,\"recipients\":9,\"connections\":1,\"oldest_age_s\":960"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"last_error\":\"451 newer\""), std::string::npos) << out;
  // z.example waits alone, held; sorted after the site (5 < 8).
  const size_t site = out.find("mx:mx1"), z = out.find("\"queue\":\"z.example\"");
  ASSERT_NE(z, std::string::npos) << out;
  EXPECT_LT(site, z);
  EXPECT_NE(out.find("\"messages\":5,\"recipients\":6", z), std::string::npos) << out;
  EXPECT_NE(out.find("\"state\":\"held\"", z), std::string::npos) << out;
  EXPECT_NE(out.find("\"reason\":\"audit\"", z), std::string::npos) << out;
}

TEST(DomainIds, InternedAndReused) {
  DomainIds ids;
  const uint32_t a = ids.acquire("a.example");
  EXPECT_EQ(ids.acquire("a.example"), a);
  const uint32_t b = ids.acquire("b.example");
  EXPECT_NE(a, b);
  EXPECT_EQ(ids.acquire(""), DomainIds::kNone);
  EXPECT_EQ(ids.name(a), "a.example");
  ids.release(a);
  EXPECT_TRUE(ids.find("a.example").has_value());  // one reference left
  ids.release(a);
  EXPECT_FALSE(ids.find("a.example").has_value());
  EXPECT_EQ(ids.acquire("c.example"), a);  // the id is reused
  EXPECT_EQ(ids.name(a), "c.example");
  EXPECT_EQ(ids.size(), 2u);
}

}  // namespace
}  // namespace ringmta

// tests/engine/suppression/suppression_store_test.cc — the suppression
// store on a real LMDB environment in a temporary directory: keys, case
// folding, domains, tenants, the writer thread, scans, reopening.
#include "engine/suppression/suppression_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/time/clock.h"

namespace ringmta {
namespace {

class SuppressionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringmta-suppression-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    _dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(_dir); }

  std::unique_ptr<SuppressionStore> open(uint64_t filter_min = 1 << 20) {
    auto s = SuppressionStore::open(_dir + "/db", 64ull << 20, filter_min);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static SuppressionChange put(std::string_view target, SuppressionReason reason, std::string_view tenant = "") {
    auto e = parse_target(target);
    EXPECT_TRUE(e.ok()) << e.status();
    e->reason = reason;
    e->tenant = std::string(tenant);
    e->time = absl::FromUnixSeconds(1764806400);  // 2025-12-04
    e->note = "test";
    return {SuppressionChange::kPut, *e};
  }

  std::string _dir;
};

TEST(SuppressionEntry, ParseTarget) {
  auto e = parse_target("  <Bob.Smith@Example.COM> ");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(e->domain_only);
  EXPECT_EQ(e->local, "Bob.Smith");  // as given
  EXPECT_EQ(e->domain, "example.com");
  EXPECT_EQ(entry_key(*e), "bob.smith@example.com");
  auto d = parse_target("@Example.Org");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->domain_only);
  EXPECT_EQ(entry_key(*d), "example.org");
  EXPECT_EQ(d->address(), "@example.org");
  for (const char* bad : {"", "nobody", "a b@example.com", "bob@", "bob@-", "bob@exa mple.com",
                          "0123456789012345678901234567890123456789012345678901234567890123456789@x.com"}) {
    EXPECT_FALSE(parse_target(bad).ok()) << bad;
  }
  EXPECT_FALSE(parse_target(std::string(400, 'a') + "@x.com").ok());
}

TEST(SuppressionEntry, ValueRoundTrip) {
  auto e = parse_target("Bob@example.com");
  ASSERT_TRUE(e.ok());
  e->tenant = "acme";
  e->reason = SuppressionReason::kComplaint;
  e->bounce_class = BounceClass::kSpamBlock;
  e->time = absl::FromUnixSeconds(1764806400);
  e->note = "pressed spam";
  e->source = "0123456789ABCDEF";
  SuppressionEntry back;
  ASSERT_TRUE(decode_entry(entry_key(*e), encode_value(*e), false, &back));
  EXPECT_EQ(back.address(), "Bob@example.com");
  EXPECT_EQ(back.tenant, "acme");
  EXPECT_EQ(back.reason, SuppressionReason::kComplaint);
  EXPECT_EQ(back.bounce_class, BounceClass::kSpamBlock);
  EXPECT_EQ(back.time, e->time);
  EXPECT_EQ(back.note, "pressed spam");
  EXPECT_EQ(back.source, "0123456789ABCDEF");
  EXPECT_EQ(refusal_text(back), "recipient is on the suppression list (complaint since 2025-12-04)");
  std::string damaged = encode_value(*e);
  damaged[0] = 9;  // a version this build does not know
  EXPECT_FALSE(decode_entry(entry_key(*e), damaged, false, &back));
  EXPECT_FALSE(decode_entry(entry_key(*e), damaged.substr(0, 5), false, &back));
}

TEST_F(SuppressionStoreTest, FindFoldsCaseAndFindsDomains) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->write({put("Bob@Example.com", SuppressionReason::kBounce),
                        put("@blocked.example", SuppressionReason::kManual)})
                  .ok());
  auto r = s->reader();
  SuppressionEntry e;
  ASSERT_TRUE(r->find("BOB@example.com", "", &e));
  EXPECT_EQ(e.address(), "Bob@example.com");
  EXPECT_EQ(e.reason, SuppressionReason::kBounce);
  EXPECT_TRUE(r->find("bob@example.com", "any-tenant", &e));
  EXPECT_FALSE(r->find("bobby@example.com", "", &e));
  EXPECT_FALSE(r->find("bo@example.com", "", &e));
  EXPECT_FALSE(r->find("bob@example.com.au", "", &e));
  ASSERT_TRUE(r->find("anyone@blocked.example", "", &e));
  EXPECT_TRUE(e.domain_only);
  EXPECT_EQ(e.address(), "@blocked.example");
  EXPECT_FALSE(r->find("anyone@sub.blocked.example", "", &e));  // exact domains only
  EXPECT_FALSE(r->find("no-at-sign", "", &e));
}

TEST_F(SuppressionStoreTest, TenantEntriesApplyToTheirTenantOnly) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->write({put("carol@example.com", SuppressionReason::kUnsubscribe, "acme"),
                        put("carol@example.com", SuppressionReason::kComplaint, "zeta"),
                        put("@example.net", SuppressionReason::kManual, "acme")})
                  .ok());
  auto r = s->reader();
  SuppressionEntry e;
  EXPECT_FALSE(r->find("carol@example.com", "", &e));  // at RCPT, before the tenant is known
  ASSERT_TRUE(r->find("carol@example.com", "zeta", &e));
  EXPECT_EQ(e.reason, SuppressionReason::kComplaint);
  ASSERT_TRUE(r->find("carol@example.com", "acme", &e));
  EXPECT_EQ(e.reason, SuppressionReason::kUnsubscribe);
  EXPECT_FALSE(r->find("carol@example.com", "other", &e));
  EXPECT_TRUE(r->find("x@example.net", "acme", &e));
  EXPECT_FALSE(r->find("x@example.net", "zeta", &e));
  // An entry for every tenant applies to each of them, and comes first.
  ASSERT_TRUE(s->write({put("carol@example.com", SuppressionReason::kBounce)}).ok());
  ASSERT_TRUE(r->find("carol@example.com", "zeta", &e));
  EXPECT_EQ(e.reason, SuppressionReason::kBounce);
  EXPECT_TRUE(e.tenant.empty());
}

TEST_F(SuppressionStoreTest, WriterThreadCommitsTicketsAndPutIfAbsentKeepsTheFirst) {
  auto s = open();
  ASSERT_TRUE(s);
  auto r = s->reader();
  uint64_t t1 = s->submit({put("dave@example.com", SuppressionReason::kManual)});
  SuppressionChange auto_add = put("dave@example.com", SuppressionReason::kBounce);
  auto_add.op = SuppressionChange::kPutIfAbsent;
  uint64_t t2 = s->submit({auto_add});
  absl::Status st;
  for (int i = 0; i < 500 && !s->done(t2, &st); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(s->done(t1, &st));
  EXPECT_TRUE(st.ok()) << st;
  ASSERT_TRUE(s->done(t2, &st));
  EXPECT_TRUE(st.ok()) << st;
  SuppressionEntry e;
  ASSERT_TRUE(r->find("dave@example.com", "", &e));
  EXPECT_EQ(e.reason, SuppressionReason::kManual);  // the automatic one did not replace it
  SuppressionChange rm = put("DAVE@example.com", SuppressionReason::kManual);
  rm.op = SuppressionChange::kRemove;
  ASSERT_TRUE(s->write({rm}).ok());
  EXPECT_FALSE(r->find("dave@example.com", "", &e));
}

TEST_F(SuppressionStoreTest, ScanPagesFiltersAndSurvivesReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<SuppressionChange> batch;
    for (int i = 0; i < 250; ++i) {
      batch.push_back(put("user" + std::to_string(i) + "@example.com",
                          i % 5 == 0 ? SuppressionReason::kComplaint : SuppressionReason::kBounce));
    }
    batch.push_back(put("@whole.example", SuppressionReason::kManual));
    ASSERT_TRUE(s->write(batch).ok());
  }
  auto s = open();  // what a restart sees
  ASSERT_TRUE(s);
  auto r = s->reader();
  SuppressionCounts c = r->counts();
  EXPECT_EQ(c.addresses, 250u);
  EXPECT_EQ(c.domains, 1u);
  std::vector<SuppressionEntry> all;
  std::string pos;
  int pages = 0;
  do {
    std::string next;
    ASSERT_TRUE(r->scan({}, pos, 100, &all, &next).ok());
    pos = next;
    ++pages;
  } while (!pos.empty() && pages < 10);
  EXPECT_EQ(all.size(), 251u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all.back().address(), "@whole.example");
  std::vector<SuppressionEntry> complaints;
  std::string next;
  ASSERT_TRUE(r->scan({.reason = "complaint"}, "", 1000, &complaints, &next).ok());
  EXPECT_EQ(complaints.size(), 50u);
  EXPECT_TRUE(next.empty());
  std::vector<SuppressionEntry> none;
  ASSERT_TRUE(r->scan({.since = absl::Now()}, "", 1000, &none, &next).ok());
  EXPECT_TRUE(none.empty());
}

// Readers on several threads while the writer commits: every reader sees
// either the old or the new state of an entry, never a torn one.
TEST_F(SuppressionStoreTest, ReadersOnThreadsDuringWrites) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->write({put("stable@example.com", SuppressionReason::kBounce)}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      auto r = s->reader();
      SuppressionEntry e;
      while (!stop.load()) {
        if (!r->find("stable@example.com", "", &e) || e.reason != SuppressionReason::kBounce) ++misses;
      }
    });
  }
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    last = s->submit({put("churn" + std::to_string(i) + "@example.com", SuppressionReason::kManual)});
  }
  absl::Status st;
  while (!s->done(last, &st)) absl::SleepFor(absl::Milliseconds(5));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(misses.load(), 0);
  EXPECT_EQ(s->reader()->counts().addresses, 51u);
}

// kill -9 right after a commit returned: the entry is there after reopening.
TEST_F(SuppressionStoreTest, CommittedEntriesSurviveKill) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = SuppressionStore::open(_dir + "/db", 64ull << 20);
    if (!s.ok() || !(*s)->write({put("killed@example.com", SuppressionReason::kComplaint)}).ok()) _exit(1);
    kill(getpid(), SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto s = open();
  ASSERT_TRUE(s);
  SuppressionEntry e;
  EXPECT_TRUE(s->reader()->find("killed@example.com", "", &e));
}

// One bad change fails its own ticket, not the batch it was committed in.
TEST_F(SuppressionStoreTest, ABadTicketFailsAloneAndIsNeverReportedDone) {
  auto s = open();
  ASSERT_TRUE(s);
  SuppressionChange too_long = put("x@example.com", SuppressionReason::kManual, std::string(255, 't'));
  too_long.entry.local = std::string(64, 'l');
  too_long.entry.domain = std::string(200, 'd') + ".example";
  std::vector<uint64_t> good;
  uint64_t bad = 0;
  for (int i = 0; i < 20; ++i) {
    good.push_back(s->submit({put("ok" + std::to_string(i) + "@example.com", SuppressionReason::kBounce)}));
    if (i == 10) bad = s->submit({too_long});
  }
  absl::Status st;
  while (!s->done(good.back(), &st)) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(s->done(bad, &st));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("longer than 511"), std::string_view::npos) << st;
  for (uint64_t t : good) {
    ASSERT_TRUE(s->done(t, &st));
    EXPECT_TRUE(st.ok()) << st;
  }
  EXPECT_EQ(s->reader()->counts().addresses, 20u);
}

// The Bloom filter grows with the list (rebuilt twice as big): every entry
// is found after it, and addresses not on the list stay not found.
TEST_F(SuppressionStoreTest, TheFilterGrowsWithTheList) {
  auto s = open(/*filter_min=*/1024);
  ASSERT_TRUE(s);
  while (!s->filter_ready()) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(s->filter_capacity(), 1024u);
  std::vector<SuppressionChange> batch;
  for (int i = 0; i < 20000; ++i) {
    batch.push_back(put("grow" + std::to_string(i) + "@example.com", SuppressionReason::kBounce));
    if (batch.size() == 1500) {  // each commit past the filter's capacity rebuilds it
      ASSERT_TRUE(s->write(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(s->write(batch).ok());
  EXPECT_GE(s->filter_capacity(), 20000u);  // rebuilt as it filled
  auto r = s->reader();
  SuppressionEntry e;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(r->find("grow" + std::to_string(i) + "@example.com", "", &e)) << i;
  }
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(r->find("absent" + std::to_string(i) + "@example.com", "", &e));
  }
}

// A second process on the same store is refused: its writes would not
// reach this one's filter.
TEST_F(SuppressionStoreTest, OneProcessPerStore) {
  auto s = open();
  ASSERT_TRUE(s);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = SuppressionStore::open(_dir + "/db", 64ull << 20);
    _exit(!other.ok() && other.status().message().find("already in use") != std::string_view::npos ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(SuppressionStoreTest, ScanRefusesPositionsItDidNotGive) {
  auto s = open();
  ASSERT_TRUE(s);
  auto r = s->reader();
  std::vector<SuppressionEntry> out;
  std::string next;
  for (const char* bad : {"x00", "a0", "aZZ", "q"}) {
    EXPECT_FALSE(r->scan({}, bad, 10, &out, &next).ok()) << bad;
  }
  EXPECT_FALSE(r->scan({}, "a" + std::string(2000, '0'), 10, &out, &next).ok());
  EXPECT_TRUE(r->scan({}, "a00", 10, &out, &next).ok());
}

TEST_F(SuppressionStoreTest, ErrorsNameThePath) {
  auto s = SuppressionStore::open("/proc/ringmta-no/db", 1 << 20);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/proc/ringmta-no/db"), std::string_view::npos) << s.status();
  // A store too small for what is written says which setting to raise.
  auto small = SuppressionStore::open(_dir + "/small", 64 << 10);
  ASSERT_TRUE(small.ok()) << small.status();
  std::vector<SuppressionChange> many;
  for (int i = 0; i < 5000; ++i) many.push_back(put("u" + std::to_string(i) + "@example.com", SuppressionReason::kBounce));
  absl::Status st = (*small)->write(many);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("suppression.max_size"), std::string_view::npos) << st;
}

}  // namespace
}  // namespace ringmta

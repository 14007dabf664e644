#include "spool/queue_id.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace ringmta::spool {
namespace {

const absl::Time kNow = absl::FromUnixMillis(1732269296123);  // 2024-11-22

bool is_upper_hex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

TEST(QueueId, FormatAndParts) {
  QueueIdGenerator gen(5);
  std::string id = gen.next(kNow);
  ASSERT_EQ(id.size(), 16u);
  EXPECT_TRUE(is_upper_hex(id)) << id;
  std::optional<QueueIdParts> p = parse_queue_id(id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->shard, 5u);
  EXPECT_EQ(p->sequence, 0u);
  EXPECT_EQ(queue_id_time(*p), kNow);
  EXPECT_FALSE(parse_queue_id("0123"));
  EXPECT_FALSE(parse_queue_id("0123456789abcdef"));
}

TEST(QueueId, UniqueAndIncreasingWithinAMillisecond) {
  QueueIdGenerator gen(1);
  std::string prev;
  std::set<std::string> seen;
  // More than 65536 in one millisecond: borrows the next ones.
  for (int i = 0; i < 70000; ++i) {
    std::string id = gen.next(kNow);
    EXPECT_GT(id, prev);
    seen.insert(id);
    prev = id;
  }
  EXPECT_EQ(seen.size(), 70000u);
  EXPECT_EQ(queue_id_time(*parse_queue_id(prev)), kNow + absl::Milliseconds(1));
}

TEST(QueueId, NeverGoesBackwardsWithTheClock) {
  QueueIdGenerator gen(0);
  std::string a = gen.next(kNow);
  std::string b = gen.next(kNow - absl::Hours(1));
  EXPECT_GT(b, a);
  std::string c = gen.next(kNow + absl::Seconds(1));
  EXPECT_GT(c, b);
  EXPECT_EQ(queue_id_time(*parse_queue_id(c)), kNow + absl::Seconds(1));
}

TEST(QueueId, ShardsDoNotCollide) {
  QueueIdGenerator a(0), b(1);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    seen.insert(a.next(kNow));
    seen.insert(b.next(kNow));
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(QueueId, SortsByTime) {
  QueueIdGenerator a(200), b(3);
  std::string early = a.next(kNow);
  std::string late = b.next(kNow + absl::Milliseconds(1));
  EXPECT_LT(early, late);
}

TEST(QueueId, ObserveRaisesTheFloor) {
  QueueIdGenerator before(2);
  std::string old_id;
  for (int i = 0; i < 10; ++i) {
    old_id = before.next(kNow + absl::Minutes(5));
  }
  // After a restart with the clock behind: the new generator must not reuse.
  QueueIdGenerator gen(2);
  gen.observe(old_id);
  gen.observe("not an id");
  std::string next = gen.next(kNow);
  EXPECT_GT(next, old_id);
  EXPECT_EQ(parse_queue_id(next)->sequence, 10u);

  // Another shard's id raises only the millisecond.
  QueueIdGenerator other(7);
  other.observe(old_id);
  std::string o = other.next(kNow);
  EXPECT_EQ(queue_id_time(*parse_queue_id(o)), kNow + absl::Minutes(5));
  EXPECT_EQ(parse_queue_id(o)->shard, 7u);
  EXPECT_EQ(parse_queue_id(o)->sequence, 0u);
}

}  // namespace
}  // namespace ringmta::spool

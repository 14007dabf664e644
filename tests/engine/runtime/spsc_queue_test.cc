#include "engine/runtime/spsc_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>

namespace ringmta {
namespace {

TEST(SpscQueue, CapacityRoundsUpToPowerOfTwo) {
  SpscQueue<int> q(100);
  EXPECT_EQ(q.capacity(), 128u);
}

TEST(SpscQueue, NothingVisibleBeforePublish) {
  SpscQueue<int> q(8);
  ASSERT_TRUE(q.try_push(1));
  EXPECT_FALSE(q.try_pop().has_value());
  EXPECT_TRUE(q.publish());
  EXPECT_FALSE(q.publish());  // nothing new
  EXPECT_EQ(q.try_pop().value(), 1);
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(SpscQueue, FullQueueRefusesUntilConsumed) {
  SpscQueue<int> q(4);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.try_push(int{i}));
  }
  EXPECT_FALSE(q.try_push(99));
  q.publish();
  EXPECT_EQ(q.try_pop().value(), 0);
  EXPECT_TRUE(q.try_push(4));
  q.publish();
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(q.try_pop().value(), i);
  }
}

TEST(SpscQueue, MoveOnlyItemsAreDestroyedOnce) {
  SpscQueue<std::unique_ptr<int>> q(4);
  ASSERT_TRUE(q.try_push(std::make_unique<int>(7)));
  q.publish();
  std::optional<std::unique_ptr<int>> v = q.try_pop();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(**v, 7);
}

// Two threads, a small queue so that it wraps and fills many times: every
// item arrives exactly once and in order.
TEST(SpscQueue, TwoThreadsDeliverEveryItemInOrder) {
  constexpr uint64_t kItems = 2'000'000;
  SpscQueue<uint64_t> q(64);
  std::thread producer([&] {
    uint64_t next = 0;
    while (next < kItems) {
      int batch = 0;
      while (next < kItems && batch < 16 && q.try_push(uint64_t{next})) {
        ++next;
        ++batch;
      }
      q.publish();
    }
  });
  uint64_t expect = 0;
  uint64_t sum = 0;
  while (expect < kItems) {
    if (std::optional<uint64_t> v = q.try_pop()) {
      ASSERT_EQ(*v, expect);
      sum += *v;
      ++expect;
    }
  }
  producer.join();
  EXPECT_EQ(sum, kItems * (kItems - 1) / 2);
  EXPECT_FALSE(q.try_pop().has_value());
}

}  // namespace
}  // namespace ringmta

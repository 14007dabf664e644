// The mesh between real rings: a shard that sleeps in io_uring_enter is
// woken by the msg_ring its peer sends after publishing, and items cross in
// order in both directions.
#include "engine/runtime/shard_mesh.h"

#include <gtest/gtest.h>
#include <liburing.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engine/runtime/ring.h"

namespace ringmta {
namespace {

constexpr uint64_t kWakeTag = 0xABCD;

TEST(ShardMesh, DrainSeesItemsFromEverySenderInOrder) {
  ShardMesh<int> mesh(3, 16, kWakeTag);
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(8, &ring, 0), 0);
  ASSERT_TRUE(mesh.push(0, 2, 1));
  ASSERT_TRUE(mesh.push(1, 2, 10));
  ASSERT_TRUE(mesh.push(0, 2, 2));
  EXPECT_FALSE(mesh.has_work(2));
  mesh.publish(0, &ring);
  mesh.publish(1, &ring);
  EXPECT_TRUE(mesh.has_work(2));
  std::vector<int> got;
  mesh.drain(2, [&](int&& v) { got.push_back(v); });
  EXPECT_EQ(got, (std::vector<int>{1, 2, 10}));
  EXPECT_FALSE(mesh.has_work(2));
  io_uring_queue_exit(&ring);
}

TEST(ShardMesh, PrepareSleepRefusesWhenWorkIsQueued) {
  ShardMesh<int> mesh(2, 16, kWakeTag);
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(8, &ring, 0), 0);
  mesh.push(0, 1, 5);
  mesh.publish(0, &ring);
  EXPECT_FALSE(mesh.prepare_sleep(1));
  io_uring_queue_exit(&ring);
}

// Ping-pong between two shard threads, each blocking in its own ring until
// woken: proves msg_ring wake-ups arrive (a lost wake-up hangs the test,
// which meson's timeout then reports).
TEST(ShardMesh, SleepingPeersAreWokenByMsgRing) {
  constexpr int kRounds = 2000;
  ShardMesh<int> mesh(2, 64, kWakeTag);
  std::atomic<int> ready{0};
  std::atomic<int> wakes{0};
  auto shard = [&](unsigned self) {
    absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::create(64);
    ASSERT_TRUE(ring.ok()) << ring.status();
    mesh.attach(self, (*ring)->fd());
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    unsigned peer = 1 - self;
    int expect = 1 - static_cast<int>(self);  // shard 0 receives 1,3,5..; shard 1 receives 0,2,4..
    if (self == 0) {
      mesh.push(0, 1, 0);
      mesh.publish(0, (*ring)->raw());
    }
    for (;;) {
      bool done = false;
      mesh.drain(self, [&](int&& v) {
        EXPECT_EQ(v, expect);
        expect += 2;
        if (v + 1 < kRounds) {
          mesh.push(self, peer, v + 1);
        }
        if (v + 2 >= kRounds) {
          done = true;
        }
      });
      mesh.publish(self, (*ring)->raw());
      if (done) {
        io_uring_submit((*ring)->raw());
        break;
      }
      if (mesh.prepare_sleep(self)) {
        (*ring)->submit_and_wait(1, -1);  // no timeout: a lost wake-up hangs
        mesh.woke_up(self);
      }
      (*ring)->for_each_cqe([&](io_uring_cqe* cqe) {
        if (cqe->user_data == kWakeTag) {
          wakes.fetch_add(1);
        }
      });
    }
  };
  std::thread a(shard, 0);
  std::thread b(shard, 1);
  a.join();
  b.join();
  EXPECT_GT(wakes.load(), 0);
}

}  // namespace
}  // namespace ringmta

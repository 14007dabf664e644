#include "engine/auth/auth_service.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/runtime/log.h"

namespace ringmta {
namespace {

void signal_fd(int fd) {
  uint64_t one = 1;
  // Non-blocking eventfd: the write never waits (the counter cannot
  // realistically overflow), so a shard may call it.
  [[maybe_unused]] ssize_t w = ::write(fd, &one, sizeof one);
}

}  // namespace

AuthService::AuthService(AuthUsers users, unsigned shards)
    : _users(std::make_shared<const AuthUsers>(std::move(users))) {
  _wake_fd = eventfd(0, EFD_CLOEXEC);
  for (unsigned i = 0; i < shards; ++i) {
    auto lane = std::make_unique<Lane>();
    lane->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    _lanes.push_back(std::move(lane));
  }
  _thread = std::thread([this] { work(); });
}

AuthService::~AuthService() {
  _stop.store(true, std::memory_order_release);
  signal_fd(_wake_fd);
  _thread.join();
  close(_wake_fd);
  for (auto& lane : _lanes) {
    close(lane->ready_fd);
  }
}

bool AuthService::submit(unsigned shard, AuthJob&& job) {
  Lane& lane = *_lanes[shard];
  // pending bounds what the shard has in both queues together, so the
  // auth thread's push of the verdict can never find the queue full.
  if (lane.pending >= kMaxPending || !lane.requests.try_push(std::move(job))) {
    return false;
  }
  ++lane.pending;
  lane.requests.publish();
  signal_fd(_wake_fd);
  return true;
}

std::optional<AuthVerdict> AuthService::take(unsigned shard) {
  Lane& lane = *_lanes[shard];
  std::optional<AuthVerdict> v = lane.verdicts.try_pop();
  if (v) {
    --lane.pending;
  }
  return v;
}

void AuthService::replace_users(AuthUsers users) {
  auto fresh = std::make_shared<const AuthUsers>(std::move(users));
  std::lock_guard<std::mutex> lock(_users_mu);
  _users = std::move(fresh);
}

void AuthService::work() {
  for (;;) {
    uint64_t n = 0;
    ssize_t r = ::read(_wake_fd, &n, sizeof n);  // blocks: this thread has nothing else to do
    if (r < 0 && errno != EINTR) {
      log_error("auth thread: read: %s", strerror(errno));
      return;
    }
    if (_stop.load(std::memory_order_acquire)) {
      return;
    }
    std::shared_ptr<const AuthUsers> users;
    {
      std::lock_guard<std::mutex> lock(_users_mu);
      users = _users;
    }
    // One check per shard per round, so that one shard's burst of AUTHs
    // does not starve the others.
    for (bool any = true; any;) {
      any = false;
      for (auto& lane : _lanes) {
        std::optional<AuthJob> job = lane->requests.try_pop();
        if (!job) {
          continue;
        }
        any = true;
        AuthVerdict v{job->slot, job->gen, users->check(job->user, job->password)};
        explicit_bzero(job->password.data(), job->password.size());
        lane->verdicts.try_push(std::move(v));  // room: see submit()
        lane->verdicts.publish();
        signal_fd(lane->ready_fd);
      }
    }
  }
}

}  // namespace ringmta

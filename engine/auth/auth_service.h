// engine/auth/auth_service.h — checks SMTP AUTH credentials on a thread of its
// own, so that a deliberately slow password hash (yescrypt: tens of ms)
// never stalls a shard's ring.
//
//   AuthService auth(std::move(users), shards);        // starts the thread
//   shard i:  if (!auth.submit(i, {slot, gen, user, password})) { 454 4.7.0 }
//             arm a read of auth.ready_fd(i) on the ring; when it completes:
//             while (auto v = auth.take(i)) { session->on_auth_result(v->ok); }
//
// One request and one verdict SPSC queue per shard (engine/runtime/spsc_queue.h):
// the shard is the only producer of its requests and the only consumer of
// its verdicts, the auth thread the other side of both. Eventfds carry the
// wake-ups both ways. The auth thread wipes a password once checked (best
// effort: copies a string move leaves behind are not tracked).
//
// One thread, not one per shard: AUTH happens once per connection, and a
// bulk submitter reuses its connections, so checks are rare next to
// messages; if they were not, the hash cost would be the thing to tune.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/auth/auth_users.h"
#include "engine/runtime/spsc_queue.h"

namespace ringmta {

struct AuthJob {
  uint32_t slot = 0;  // the connection, echoed back in the verdict
  uint32_t gen = 0;
  std::string user;
  std::string password;
};

struct AuthVerdict {
  uint32_t slot = 0;
  uint32_t gen = 0;
  bool ok = false;
};

class AuthService {
 public:
  AuthService(AuthUsers users, unsigned shards);
  ~AuthService();  // stops and joins the thread
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // submit queues a check; false when this shard already has kMaxPending
  // checks outstanding (the caller answers 454 4.7.0, try again later).
  // Shard `shard`'s thread only.
  bool submit(unsigned shard, AuthJob&& job);
  // take returns a finished check, if any. Shard `shard`'s thread only.
  std::optional<AuthVerdict> take(unsigned shard);
  // ready_fd is an eventfd that becomes readable when verdicts wait.
  int ready_fd(unsigned shard) const { return _lanes[shard]->ready_fd; }

  // replace_users swaps in a reloaded user list (SIGHUP); checks already
  // running finish with the old one.
  void replace_users(AuthUsers users);

  static constexpr size_t kMaxPending = 1024;  // per shard

 private:
  struct Lane {
    Lane() : requests(kMaxPending), verdicts(kMaxPending) {}
    SpscQueue<AuthJob> requests;      // shard -> auth thread
    SpscQueue<AuthVerdict> verdicts;  // auth thread -> shard
    int ready_fd = -1;
    size_t pending = 0;  // shard side: submitted, not yet taken
  };

  void work();

  std::vector<std::unique_ptr<Lane>> _lanes;
  int _wake_fd = -1;  // the auth thread sleeps on it
  std::atomic<bool> _stop{false};
  std::mutex _users_mu;  // taken by the auth thread and SIGHUP, never by a shard
  std::shared_ptr<const AuthUsers> _users;
  std::thread _thread;
};

}  // namespace ringmta

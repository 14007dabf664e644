// engine/dkim/signing_service.h — DKIM signing on threads of their own, so
// that an RSA signature (0.3 ms for 2048 bits here, 2 ms for 4096) never
// stalls a shard's ring: a shard hands a finished message over and gets
// it back signed, then spools it.
//
//   SigningService signing(signers, shards, threads);   // starts the threads
//   shard i:  if (!signing.submit(i, {std::move(msg), slot, gen})) { keep it, retry later }
//             once per loop iteration: signing.flush(i);   // publish, wake the threads
//             arm a read of signing.ready_fd(i); when it completes:
//             while (auto r = signing.take(i)) { store r->message }
//
// Lanes like the auth thread's (engine/auth/auth_service.h): one request
// and one result SPSC queue per (shard, thread) pair, so every queue has
// one producer and one consumer; a shard gives each message to its lane
// with the fewest outstanding, so all threads serve all shards. Eventfds
// carry the wake-ups: each thread sleeps on its own (a shard writes it once
// per loop iteration that gave it work), each shard has one that all
// threads signal.
//
// Why threads and not a signing stage in each shard's loop: one RSA-4096
// signature alone is past the 1 ms a loop may stall, so a shard could not
// sign even with batches of one; a thread pays a hand-off (two eventfd
// writes, ~2 us) per message and signs in parallel with the shard's I/O.
//
// What a thread does to a message (sign_message): take the From: domain,
// find its signers (DkimSigners::for_from), fold lines longer than the
// wire allows the way delivery would (so the signed bytes are the sent
// bytes), and put the DKIM-Signature fields in front of the trace headers.
// A message nobody signs comes back unchanged.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/dkim/dkim_signers.h"
#include "engine/runtime/spsc_queue.h"
#include "proto/server_session.h"

namespace ringmta {

struct SigningJob {
  std::unique_ptr<proto::CompletedMessage> message;
  uint32_t slot = 0;  // the session waiting for it, echoed back
  uint32_t gen = 0;
  bool ok = true;     // in a result: false when signing failed
};

struct SigningStats {
  std::atomic<uint64_t> signed_messages{0};
  std::atomic<uint64_t> unsigned_messages{0};  // no key for their From: domain
  std::atomic<uint64_t> failures{0};
};

// sign_message signs m in place with the signers of its From: domain.
absl::Status sign_message(const DkimSigners& signers, proto::CompletedMessage& m, bool* signed_it);

class SigningService {
 public:
  // threads: 0 = one per shard.
  SigningService(std::shared_ptr<const DkimSigners> signers, unsigned shards, unsigned threads);
  ~SigningService();  // stops and joins the threads
  SigningService(const SigningService&) = delete;
  SigningService& operator=(const SigningService&) = delete;

  // submit queues a message for a thread; false (and the job untouched)
  // when every lane of this shard already holds kMaxPending. The threads
  // see it at flush(). Shard `shard` only.
  bool submit(unsigned shard, SigningJob& job);
  // flush publishes what submit queued and wakes each thread that got
  // some: one eventfd write per thread per loop iteration, not one per
  // message. Shard `shard` only.
  void flush(unsigned shard);
  // take returns a finished message, if any. Shard `shard` only.
  std::optional<SigningJob> take(unsigned shard);
  // ready_fd becomes readable when results wait for shard `shard`.
  int ready_fd(unsigned shard) const { return _ready_fds[shard]; }

  // replace swaps in reloaded keys (SIGHUP); a message being signed
  // finishes with the old ones.
  void replace(std::shared_ptr<const DkimSigners> signers);
  const SigningStats& stats() const { return _stats; }
  unsigned threads() const { return static_cast<unsigned>(_workers.size()); }

  static constexpr size_t kMaxPending = 256;  // per lane
  static constexpr int kNice = 10;            // the signing threads' priority (work() says why)

 private:
  struct Lane {
    Lane() : requests(kMaxPending), results(kMaxPending) {}
    SpscQueue<SigningJob> requests;  // shard -> thread
    SpscQueue<SigningJob> results;   // thread -> shard
    size_t pending = 0;              // shard side: submitted, not yet taken
  };
  struct Worker {
    int wake_fd = -1;
    std::thread thread;
  };

  Lane& lane(unsigned shard, unsigned thread) { return *_lanes[shard * _workers.size() + thread]; }
  void work(unsigned thread);

  unsigned _shards;
  std::vector<std::unique_ptr<Lane>> _lanes;  // [shard * threads + thread]
  std::vector<int> _ready_fds;                // per shard
  std::vector<Worker> _workers;
  std::atomic<bool> _stop{false};
  std::mutex _signers_mu;  // taken by the threads once per wake-up and by SIGHUP, never by a shard
  std::shared_ptr<const DkimSigners> _signers;
  SigningStats _stats;
};

}  // namespace ringmta

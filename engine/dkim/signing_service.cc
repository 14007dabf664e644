// engine/dkim/signing_service.cc — the signing threads (signing_service.h).
#include "engine/dkim/signing_service.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "engine/runtime/log.h"
#include "proto/client_content.h"
#include "proto/dkim_canon.h"

namespace ringmta {
namespace {

void signal_fd(int fd) {
  uint64_t one = 1;
  // Non-blocking eventfd: the write never waits.
  [[maybe_unused]] ssize_t w = ::write(fd, &one, sizeof one);
}

// longest_line: octets of the longest line, CRLF excluded.
size_t longest_line(std::string_view body) {
  size_t longest = 0;
  for (size_t pos = 0; pos < body.size();) {
    const void* nl = std::memchr(body.data() + pos, '\n', body.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - body.data()) : body.size();
    const size_t len = end - pos - (end > pos && body[end - 1] == '\r' ? 1 : 0);
    longest = std::max(longest, len);
    pos = end + 1;
  }
  return longest;
}

}  // namespace

absl::Status sign_message(const DkimSigners& signers, proto::CompletedMessage& m, bool* signed_it) {
  *signed_it = false;
  std::vector<proto::HeaderField> fields = proto::split_header_fields(m.body);
  const std::string domain = proto::from_domain(fields);
  std::span<const proto::DkimSigner* const> who = signers.for_from(domain);
  if (domain.empty() || who.empty()) {
    return absl::OkStatus();
  }
  if (longest_line(m.body) >= proto::kMaxWireLine) {
    // Delivery folds lines past the wire's limit (proto/client_content.h),
    // counting a dot it stuffs; fold them now, one octet shorter, so that
    // the bytes signed are the bytes sent, stuffed or not.
    std::string folded;
    folded.reserve(m.body.size() + m.body.size() / 64);
    proto::append_wire_content(&folded, "", m.body, proto::kMaxWireLine - 1, false);
    m.body = std::move(folded);
    m.has_long_lines = false;
  }
  absl::StatusOr<std::string> fields_text = proto::dkim_sign(who, m.trace_headers, m.body, absl::Now());
  if (!fields_text.ok()) {
    return fields_text.status();
  }
  m.trace_headers.insert(0, *fields_text);
  *signed_it = true;
  return absl::OkStatus();
}

SigningService::SigningService(std::shared_ptr<const DkimSigners> signers, unsigned shards, unsigned threads)
    : _shards(shards), _signers(std::move(signers)) {
  if (threads == 0) {
    threads = shards;
  }
  _workers.resize(threads);
  for (unsigned i = 0; i < shards * threads; ++i) {
    _lanes.push_back(std::make_unique<Lane>());
  }
  for (unsigned i = 0; i < shards; ++i) {
    _ready_fds.push_back(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  }
  for (unsigned t = 0; t < threads; ++t) {
    _workers[t].wake_fd = eventfd(0, EFD_CLOEXEC);
  }
  for (unsigned t = 0; t < threads; ++t) {
    _workers[t].thread = std::thread([this, t] { work(t); });
  }
}

SigningService::~SigningService() {
  _stop.store(true, std::memory_order_release);
  for (Worker& w : _workers) {
    signal_fd(w.wake_fd);
  }
  for (Worker& w : _workers) {
    w.thread.join();
    close(w.wake_fd);
  }
  for (int fd : _ready_fds) {
    close(fd);
  }
}

bool SigningService::submit(unsigned shard, SigningJob& job) {
  // The lane with the fewest outstanding: a thread busy with a 1 MB body
  // does not hold up the messages behind it.
  unsigned best = 0;
  for (unsigned t = 1; t < _workers.size(); ++t) {
    if (lane(shard, t).pending < lane(shard, best).pending) {
      best = t;
    }
  }
  Lane& l = lane(shard, best);
  // pending bounds both queues together, so the thread's push of the
  // result can never find its queue full.
  if (l.pending >= kMaxPending || !l.requests.try_push(std::move(job))) {
    return false;
  }
  ++l.pending;
  return true;
}

void SigningService::flush(unsigned shard) {
  for (unsigned t = 0; t < _workers.size(); ++t) {
    if (lane(shard, t).requests.publish()) {
      signal_fd(_workers[t].wake_fd);
    }
  }
}

std::optional<SigningJob> SigningService::take(unsigned shard) {
  for (unsigned t = 0; t < _workers.size(); ++t) {
    Lane& l = lane(shard, t);
    if (std::optional<SigningJob> r = l.results.try_pop()) {
      --l.pending;
      return r;
    }
  }
  return std::nullopt;
}

void SigningService::replace(std::shared_ptr<const DkimSigners> signers) {
  std::lock_guard<std::mutex> lock(_signers_mu);
  _signers = std::move(signers);
}

void SigningService::work(unsigned thread) {
  // Signing is batch work beside the shards' I/O loops: SCHED_BATCH and a
  // lower priority let a shard that wakes take the CPU from a signer at
  // once instead of waiting out its time slice (on a machine with more
  // busy threads than cores, that wait is what stalls a loop).
  sched_param none{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice);
  for (;;) {
    uint64_t n = 0;
    ssize_t r = ::read(_workers[thread].wake_fd, &n, sizeof n);  // blocks: nothing else to do
    if (r < 0 && errno != EINTR) {
      log_error("signing thread %u: read: %s", thread, strerror(errno));
      return;
    }
    if (_stop.load(std::memory_order_acquire)) {
      return;
    }
    std::shared_ptr<const DkimSigners> signers;
    {
      std::lock_guard<std::mutex> lock(_signers_mu);
      signers = _signers;
    }
    // One message per shard per round, so that one shard's burst does not
    // starve the others.
    for (bool any = true; any;) {
      any = false;
      for (unsigned s = 0; s < _shards; ++s) {
        Lane& l = lane(s, thread);
        std::optional<SigningJob> job = l.requests.try_pop();
        if (!job) {
          continue;
        }
        any = true;
        bool signed_it = false;
        absl::Status st = sign_message(*signers, *job->message, &signed_it);
        if (!st.ok()) {
          log_error("dkim: message %s: %s", job->message->queue_id, st.message());
          _stats.failures.fetch_add(1, std::memory_order_relaxed);
          job->ok = false;
        } else {
          (signed_it ? _stats.signed_messages : _stats.unsigned_messages).fetch_add(1, std::memory_order_relaxed);
        }
        l.results.try_push(std::move(*job));  // room: see submit()
        l.results.publish();
        signal_fd(_ready_fds[s]);
      }
    }
  }
}

}  // namespace ringmta

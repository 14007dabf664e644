#include "engine/dns/dns_channel.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

constexpr uint16_t kClassIn = 1;
// EDNS lets a long MX list come back over UDP instead of a TCP retry;
// 1232 bytes is the DNS Flag Day 2020 size that avoids IP fragmentation.
constexpr int kEdnsPayload = 1232;

int64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

absl::Status init_library() {
  // ares_library_init is not thread-safe and only counts references on
  // Linux; once per process, never undone, is enough.
  static std::once_flag once;
  static int result = ARES_SUCCESS;
  std::call_once(once, [] { result = ares_library_init(ARES_LIB_INIT_ALL); });
  if (result != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(result)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsChannel>> DnsChannel::create(Ring* ring,
                                                               const DnsServerOptions& options) {
  if (options.timeout_ms <= 0 || options.tries <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("DNS channel: timeout_ms (", options.timeout_ms,
                                                   ") and tries (", options.tries,
                                                   ") must be positive"));
  }
  absl::Status s = init_library();
  if (!s.ok()) {
    return s;
  }
  std::unique_ptr<DnsChannel> ch(new DnsChannel(ring));
  ares_options o{};
  o.sock_state_cb = &DnsChannel::on_sock_state;
  o.sock_state_cb_data = ch.get();
  o.timeout = options.timeout_ms;
  o.tries = options.tries;
  o.flags = ARES_FLAG_EDNS;
  o.ednspsz = kEdnsPayload;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
             ARES_OPT_EDNSPSZ;
  int r = ares_init_options(&ch->_channel, &o, mask);
  if (r != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_init_options: ", ares_strerror(r)));
  }
  if (!options.servers.empty()) {
    r = ares_set_servers_ports_csv(ch->_channel, options.servers.c_str());
    if (r != ARES_SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ares_set_servers_ports_csv(\"", options.servers, "\"): ", ares_strerror(r)));
    }
  }
  return ch;
}

DnsChannel::~DnsChannel() {
  if (_channel == nullptr) {
    return;
  }
  // ares_destroy reports every socket closed (removing its poll) and ends
  // every query with ARES_EDESTRUCTION, which on_answer drops.
  _destroying = true;
  ares_destroy(_channel);
  io_uring_submit(_ring->raw());
}

void DnsChannel::query(std::string_view name, uint16_t type) {
  ++_outstanding;
  if (_in_flight >= kMaxInFlight) {
    _waiting.emplace_back(std::string(name), type);  // sent as answers come back
    return;
  }
  send(std::string(name), type);
  after_ares();
}

void DnsChannel::send(std::string name, uint16_t type) {
  auto* q = new Query{this, type, std::move(name)};
  ++_in_flight;
  ++_queries_sent;
  // May call on_answer before it returns (no server, out of memory): that
  // only queues a reply, so nothing above is re-entered.
  ares_query(_channel, q->name.c_str(), kClassIn, type, &DnsChannel::on_answer, q);
}

// send_waiting puts queries that waited for room on the wire.
void DnsChannel::send_waiting() {
  if (_waiting.empty() || _destroying) {
    return;
  }
  while (_in_flight < kMaxInFlight && !_waiting.empty()) {
    auto [name, type] = std::move(_waiting.front());
    _waiting.pop_front();
    send(std::move(name), type);
  }
  after_ares();
}

void DnsChannel::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                           int alen) {
  std::unique_ptr<Query> q(static_cast<Query*>(arg));
  DnsChannel* self = q->channel;
  --self->_outstanding;
  --self->_in_flight;
  if (self->_destroying || status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    return;
  }
  DnsReply reply{q->type, std::move(q->name), status, {}};
  if (abuf != nullptr && alen > 0) {
    reply.message.assign(reinterpret_cast<const char*>(abuf), static_cast<size_t>(alen));
  }
  self->_replies.push_back(std::move(reply));
}

void DnsChannel::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<DnsChannel*>(data);
  Socket& s = self->_socks[fd];
  s.want = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
  if (s.want == 0) {
    // c-ares is about to close the fd. Remove the poll now: it pins the old
    // socket, and c-ares may open a new one with the same number before
    // after_ares runs.
    self->remove_poll(fd, s);
  }
}

void DnsChannel::remove_poll(int fd, Socket& s) {
  if (s.armed == 0) {
    return;
  }
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_poll_remove(sqe, encode(Op::kDns, static_cast<uint32_t>(fd), s.gen));
  io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  s.armed = 0;
}

void DnsChannel::after_ares() {
  if (_destroying) {
    return;
  }
  for (auto& [fd, s] : _socks) {
    if (s.armed == s.want) {
      continue;
    }
    // A one-shot poll cannot change its events: replace it. Readiness is
    // checked when a poll is armed, so nothing is lost in between.
    remove_poll(fd, s);
    if (s.want != 0) {
      s.gen = ++_next_gen;
      s.armed = s.want;
      io_uring_sqe* sqe = _ring->sqe();
      io_uring_prep_poll_add(sqe, fd, s.want);
      io_uring_sqe_set_data64(sqe, encode(Op::kDns, static_cast<uint32_t>(fd), s.gen));
    }
  }
  absl::erase_if(_socks, [](const auto& kv) { return kv.second.want == 0; });

  // c-ares' own answer to "when is the next timeout" (ares_timeout) walks
  // every outstanding query; asked after each call, routing thousands of
  // new domains at once would cost time quadratic in them. So while
  // queries are out, timeouts are looked at every kTimeoutCheckUs instead:
  // c-ares' timeouts are seconds long, and fire at most that much late.
  if (_outstanding == 0) {
    _deadline_us = -1;
  } else if (_deadline_us < 0) {
    _deadline_us = now_us() + kTimeoutCheckUs;
  }
}

void DnsChannel::on_cqe(const io_uring_cqe* cqe) {
  UserData ud = decode(cqe->user_data);
  int fd = static_cast<int>(ud.slot);
  auto it = _socks.find(fd);
  if (it == _socks.end() || it->second.armed == 0 || it->second.gen != ud.gen) {
    return;  // a poll removed since: its socket is closed or replaced
  }
  Socket& s = it->second;
  uint32_t events = s.armed;
  s.armed = 0;
  // An error result (the socket broke) is passed on as readiness so that
  // c-ares reads or writes, sees the error, and fails over.
  uint32_t ready = cqe->res < 0 ? events : static_cast<uint32_t>(cqe->res);
  bool readable = (events & POLLIN) && (ready & (POLLIN | POLLERR | POLLHUP));
  bool writable = (events & POLLOUT) && (ready & (POLLOUT | POLLERR | POLLHUP));
  ares_process_fd(_channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  after_ares();
  send_waiting();
}

void DnsChannel::process_timeouts() {
  if (_deadline_us < 0 || now_us() < _deadline_us) {
    return;
  }
  _deadline_us = -1;  // after_ares sets the next check while queries are out
  ares_process_fd(_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  after_ares();
  send_waiting();
}

int64_t DnsChannel::wait_bound_us() const {
  if (_deadline_us < 0) {
    return -1;
  }
  return std::max<int64_t>(0, _deadline_us - now_us());
}

}  // namespace ringmta

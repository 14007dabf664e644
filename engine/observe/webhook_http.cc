// engine/observe/webhook_http.cc — the webhook's HTTP/1.1 client on the
// shard's ring: one keep-alive connection per [[webhook]], one request at a
// time (webhook_shipper.h).
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/observe/webhook_shipper.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

constexpr int64_t kConnectTimeoutS = 5;
constexpr int64_t kResponseTimeoutMs = 30'000;
constexpr int64_t kFirstBackoffMs = 1000;
constexpr int64_t kMaxBackoffMs = 60'000;

// retry_later: 5xx, 408 Request Timeout and 429 Too Many Requests are the
// receiver's own trouble; anything else that is not 2xx or 4xx (a redirect,
// which is not followed) is ours to fix, and nothing is dropped meanwhile.
bool retry_later(int status) {
  return status >= 500 || status == 408 || status == 429 || status < 400;
}

}  // namespace

void WebhookShipper::start_connect(Hook& h) {
  h.io.fd = socket(h.cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (h.io.fd < 0) {
    fail_attempt(h, absl::StrCat("socket: ", strerror(errno)));
    return;
  }
  int one = 1;
  setsockopt(h.io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++h.gen;
  h.shut = false;
  h.open = false;
  h.reused = false;
  auto [sqe, timeout_sqe] = _ctx.ring.sqe_pair();
  io_uring_prep_connect(sqe, h.io.fd, reinterpret_cast<const sockaddr*>(&h.cfg->addr), h.cfg->addr_len);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(sqe, encode(Op::kHookConnect, h.index, h.gen));
  // A linked timeout bounds the connect (it completes with -ECANCELED).
  h.connect_timeout.tv_sec = kConnectTimeoutS;
  h.connect_timeout.tv_nsec = 0;
  io_uring_prep_link_timeout(timeout_sqe, &h.connect_timeout, 0);
  io_uring_sqe_set_data64(timeout_sqe, encode(Op::kCancel));
  h.connecting = true;
}

void WebhookShipper::on_connect(Hook& h, int res) {
  h.connecting = false;
  if (h.shut || _ctx.stopping) {
    h.shut = true;
    maybe_release(h);
    return;
  }
  if (res < 0) {
    fail_attempt(h, absl::StrCat("connect: ", res == -ECANCELED ? "timed out" : strerror(-res)));
    return;
  }
  h.open = true;
  h.parser = std::make_unique<proto::HttpParser>(proto::HttpParser::Kind::kResponse, _limits);
  h.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kHookRecv, h.index, h.gen));
  if (h.batch_active && !h.awaiting) {
    send_request(h);
  }
}

void WebhookShipper::send_request(Hook& h) {
  h.io.sending = h.request;  // a copy: the batch's bytes stay for a retry
  h.io.start_send(_ctx.ring, encode(Op::kHookSend, h.index, h.gen));
  h.awaiting = true;
  h.got_bytes = false;
  h.response_deadline_ms = monotonic_ms() + kResponseTimeoutMs;
}

void WebhookShipper::on_send(Hook& h, int res) {
  switch (h.io.on_send(_ctx.ring, h.shut ? -ECANCELED : res, encode(Op::kHookSend, h.index, h.gen))) {
    case SocketIo::SendState::kMore:
      return;
    case SocketIo::SendState::kError:
      if (h.awaiting && !h.shut) {
        fail_attempt(h, absl::StrCat("send: ", strerror(-res)));
      }
      break;
    case SocketIo::SendState::kDone:
      break;
  }
  maybe_release(h);
}

void WebhookShipper::on_recv(Hook& h, io_uring_cqe* cqe) {
  const bool more = cqe->flags & IORING_CQE_F_MORE;
  if (!more) {
    h.io.recv_armed = false;
  }
  if (cqe->res > 0) {
    const auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    std::string_view data(_ctx.buffers.data(id), static_cast<size_t>(cqe->res));
    if (!h.shut && !h.awaiting) {
      // Bytes nobody asked for: the connection is out of step.
      shut(h);
    }
    while (!h.shut && h.awaiting && !data.empty()) {
      h.got_bytes = true;
      data.remove_prefix(h.parser->feed(data));
      if (h.parser->failed()) {
        fail_attempt(h, absl::StrCat("bad response: ", h.parser->error().message));
      } else if (h.parser->done()) {
        const proto::HttpMessage r = h.parser->take();
        if (r.status >= 100 && r.status < 200) {
          continue;  // an interim response: the real one follows
        }
        on_response(h, r);
        break;  // one request, one response: anything after it is ignored
      } else {
        break;
      }
    }
    _ctx.buffers.recycle(id);
    if (!more && !h.shut) {
      h.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kHookRecv, h.index, h.gen));
    }
  } else if (cqe->res == -ENOBUFS) {
    if (!h.shut && !more) {
      h.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kHookRecv, h.index, h.gen));
    }
  } else if (!h.shut) {
    // Closed by the receiver: a response that runs to the close ends here;
    // an idle keep-alive connection simply goes.
    if (h.awaiting) {
      h.parser->feed_eof();
      if (h.parser->done()) {
        on_response(h, h.parser->take());
      } else {
        fail_attempt(h, cqe->res == 0 ? "connection closed before a response" : strerror(-cqe->res));
      }
    }
    shut(h);
  }
  maybe_release(h);
}

void WebhookShipper::on_response(Hook& h, const proto::HttpMessage& r) {
  h.awaiting = false;
  h.reused = true;
  if (r.status >= 200 && r.status < 300) {
    h.events_shipped += h.batch_count;
    ++h.batches;
    acknowledge(h);
  } else if (retry_later(r.status)) {
    fail_attempt(h, absl::StrCat("HTTP ", r.status));
    return;
  } else {
    // The receiver will never take this batch: skipping it is the only way on.
    log_warn("webhook %s: HTTP %d for a batch of %zu events (offsets to %llu): skipped; response: %s", h.cfg->url,
             r.status, h.batch_count, static_cast<unsigned long long>(h.batch_end),
             std::string_view(r.body).substr(0, 200));
    ++h.skipped;
    acknowledge(h);
  }
  if (!r.keep_alive || _ctx.stopping) {
    shut(h);
  }
}

// fail_attempt: the batch in flight did not get through; it goes again,
// first at once on a fresh connection if a kept-alive one went stale under
// it, then after a backoff.
void WebhookShipper::fail_attempt(Hook& h, const std::string& why) {
  const bool stale = h.reused && !h.got_bytes && !h.retried_fresh;
  h.awaiting = false;
  ++h.failures;
  shut(h);
  if (_ctx.stopping) {
    return;
  }
  if (stale) {
    h.retried_fresh = true;
    h.retry_at_ms = 0;
    log_debug("webhook %s: %s on a kept-alive connection: again on a new one", h.cfg->url, why);
    return;
  }
  h.backoff_ms = h.backoff_ms == 0 ? kFirstBackoffMs : std::min(h.backoff_ms * 2, kMaxBackoffMs);
  // Jitter (between 0.75 and 1.25 of the backoff) keeps many senders from
  // coming back at the same moment.
  const int64_t wait = std::min<int64_t>(
      kMaxBackoffMs, h.backoff_ms * 3 / 4 + static_cast<int64_t>(_jitter() % static_cast<uint32_t>(h.backoff_ms / 2 + 1)));
  h.retry_at_ms = monotonic_ms() + wait;
  log_warn("webhook %s: %s: a batch of %zu events again in %.1f s", h.cfg->url, why, h.batch_count,
           static_cast<double>(wait) / 1000);
}

void WebhookShipper::shut(Hook& h) {
  if (h.io.fd < 0) {
    return;
  }
  if (!h.shut) {
    h.shut = true;
    h.open = false;
    if (h.connecting) {
      io_uring_sqe* sqe = _ctx.ring.sqe();
      io_uring_prep_cancel64(sqe, encode(Op::kHookConnect, h.index, h.gen), 0);
      io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
    } else {
      h.io.shut(_ctx.ring, encode(Op::kHookRecv, h.index, h.gen));
    }
  }
  maybe_release(h);
}

void WebhookShipper::maybe_release(Hook& h) {
  if (h.io.fd < 0 || !h.shut || h.connecting || !h.io.idle()) {
    return;
  }
  h.io.release();
  h.parser.reset();
  h.open = false;
}

}  // namespace ringmta

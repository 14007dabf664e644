// engine/admin/admin_server.cc — the admin API's connections (admin_server.h).
#include "engine/admin/admin_server.h"

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"
#include "proto/http_response.h"

namespace ringmta {
namespace {

// Connections per shard; beyond, a new one gets 503 and is closed.
constexpr uint32_t kMaxConnections = 256;
// A connection with no request in progress is closed after this long,
// one inside a request (headers or body trickling in) after the same.
constexpr int64_t kIdleMs = 60'000;
// A pipelining client is buffered up to one full request beyond the one
// being answered; past that it is told to slow down.
constexpr size_t kHeadroom = 1 << 20;
// How long a lingering close waits for the client to close (admin_server.h).
constexpr int64_t kLingerMs = 2000;

}  // namespace

AdminServer::AdminServer(const ShardContext& ctx, std::vector<int> listen_fds, const AdminAccess* access,
                         AdminApi& api, TlsContext* tls)
    : _ctx(ctx), _listen_fds(std::move(listen_fds)), _access(access), _tls(tls), _api(api) {
  _limits.max_body = ctx.config.admin_max_body;
}

AdminServer::~AdminServer() {
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    if (_conns[slot].io.fd >= 0) {
      _conns[slot].io.release();
    }
  }
  for (int fd : _listen_fds) {
    close(fd);
  }
}

void AdminServer::start() {
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    arm_accept(i);
  }
}

void AdminServer::arm_accept(uint32_t listener) {
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_multishot_accept(sqe, _listen_fds[listener], nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, encode(Op::kAdminAccept, listener));
}

void AdminServer::on_completion(const UserData& ud, io_uring_cqe* cqe) {
  switch (ud.op) {
    case Op::kAdminAccept:
      on_accept(ud.slot, cqe);
      return;
    case Op::kAdminRecv:
    case Op::kAdminSend:
      if (ud.slot >= _conns.size() || _conns[ud.slot].gen != ud.gen || _conns[ud.slot].io.fd < 0) {
        if (ud.op == Op::kAdminRecv && (cqe->flags & IORING_CQE_F_BUFFER)) {
          _ctx.buffers.recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
        }
        return;
      }
      ud.op == Op::kAdminRecv ? on_recv(ud.slot, cqe) : on_send(ud.slot, cqe);
      return;
    default:
      return;
  }
}

void AdminServer::on_accept(uint32_t listener, io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE) && !_ctx.stopping && cqe->res != -ECANCELED) {
    arm_accept(listener);
  }
  if (cqe->res < 0) {
    if (cqe->res != -ECANCELED) {
      log_warn("shard %u: admin accept: %s", _ctx.id, strerror(-cqe->res));
    }
    return;
  }
  const int fd = cqe->res;
  if (_ctx.stopping || _conns.in_use() >= kMaxConnections) {
    const std::string r = proto::http_error(503, _ctx.stopping ? "stopping" : "too many admin connections", false);
    [[maybe_unused]] ssize_t w = ::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
    return;
  }
  const uint32_t slot = _conns.acquire();
  Conn& c = _conns[slot];
  ++c.gen;
  c.io = SocketIo{.fd = fd};
  c.parser = std::make_unique<proto::HttpParser>(proto::HttpParser::Kind::kRequest, _limits);
  c.tls = _tls != nullptr ? std::make_unique<TlsSession>(*_tls, "") : nullptr;
  c.input.clear();
  c.out.clear();
  c.waiting = false;
  c.head = false;
  c.overflowed = false;
  c.keep_alive = true;
  c.closing = false;
  c.lingering = false;
  c.shut = false;
  socklen_t len = sizeof c.peer;
  getpeername(fd, reinterpret_cast<sockaddr*>(&c.peer), &len);
  c.last_activity_ms = monotonic_ms();
  c.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kAdminRecv, slot, c.gen));
}

void AdminServer::on_recv(uint32_t slot, io_uring_cqe* cqe) {
  Conn& c = _conns[slot];
  const bool more = cqe->flags & IORING_CQE_F_MORE;
  if (!more) {
    c.io.recv_armed = false;
  }
  if (cqe->res > 0) {
    const auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    bool ok = true;
    if (c.lingering) {
      // Dropped: the answer is out.
    } else if (!c.shut && !c.closing) {
      const std::string_view data(_ctx.buffers.data(id), static_cast<size_t>(cqe->res));
      if (c.tls) {
        // Decrypted into the input; the handshake's answers wait in the
        // session's output, which flush() sends.
        ok = c.tls->receive(data, &c.input).ok();
      } else {
        c.input.append(data);
      }
      c.last_activity_ms = monotonic_ms();
    }
    _ctx.buffers.recycle(id);
    if (!ok) {
      log_debug("shard %u: admin TLS: %s", _ctx.id, c.tls->error());
      c.closing = true;  // the alert, if any, goes out; then the socket closes
      flush(slot);
    } else if (!c.shut && !c.closing) {
      if (c.waiting && c.input.size() > _limits.max_body + kHeadroom) {
        // Pipelined far past the request still being answered: that one
        // gets its answer, then a 429, then the connection closes.
        c.overflowed = true;
        c.closing = true;
        c.input.clear();
      } else {
        serve(slot);
      }
      flush(slot);
    }
    if (!more && !c.shut) {
      c.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kAdminRecv, slot, c.gen));
    }
  } else if (cqe->res == -ENOBUFS) {
    if (!c.shut) {
      c.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kAdminRecv, slot, c.gen));
    }
  } else if (cqe->res == 0 && !c.shut && (c.waiting || c.io.send_in_flight || !c.out.empty())) {
    // The client half-closed after its request: it still gets the answer
    // (an injection's, once durable), then the connection closes.
    c.closing = true;
    flush(slot);
  } else {
    // The peer closed (or the socket failed). A request still waiting for
    // its answer completes all the same; nobody reads the answer.
    if (!c.shut && c.parser->in_message()) {
      log_debug("shard %u: admin client left in the middle of a request", _ctx.id);
    }
    shut(slot);
  }
  maybe_release(slot);
}

// serve parses and answers requests from the input, one at a time, until
// the input holds no complete request or one is waiting for its answer.
void AdminServer::serve(uint32_t slot) {
  Conn& c = _conns[slot];
  size_t pos = 0;
  while (!c.waiting && !c.closing) {
    pos += c.parser->feed(std::string_view(c.input).substr(pos));
    if (c.parser->failed()) {
      const proto::HttpError& e = c.parser->error();
      c.out += proto::http_error(e.status, e.message, false);
      c.closing = true;
      break;
    }
    if (c.parser->take_continue()) {
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
    }
    if (!c.parser->done()) {
      break;
    }
    proto::HttpMessage req = c.parser->take();
    c.keep_alive = req.keep_alive && !_ctx.stopping;
    c.head = req.method == "HEAD";
    const bool head = c.head;
    if (_access != nullptr) {
      switch (_access->check(reinterpret_cast<const sockaddr*>(&c.peer), req.header("Authorization"))) {
        case AdminAccess::Verdict::kAllowed:
          break;
        case AdminAccess::Verdict::kNoToken:
          answer(c, json_error(401, "this client is outside admin.trusted_networks: send Authorization: "
                                    "Bearer TOKEN with a token of admin.tokens_file"),
                 head);
          continue;
        case AdminAccess::Verdict::kBadToken:
          answer(c, json_error(401, "the bearer token is not one of admin.tokens_file"), head);
          continue;
      }
    }
    std::optional<AdminResponse> r =
        _api.handle(req, AdminRequestRef{slot, c.gen}, peer_text(reinterpret_cast<const sockaddr*>(&c.peer)));
    if (r) {
      answer(c, *r, head);
    } else {
      c.waiting = true;  // respond() comes later
    }
  }
  c.input.erase(0, pos);
}

void AdminServer::answer(Conn& c, const AdminResponse& r, bool head) {
  std::vector<std::pair<std::string, std::string>> extra;
  if (r.status == 401) {
    extra.emplace_back("WWW-Authenticate", "Bearer realm=\"ringmta\"");
  }
  std::string bytes = proto::http_response(r.status, r.content_type, r.body, c.keep_alive, extra);
  if (head) {
    bytes.resize(bytes.size() - r.body.size());
  }
  c.out += bytes;
  if (!c.keep_alive) {
    c.closing = true;
  }
}

void AdminServer::respond(AdminRequestRef ref, const AdminResponse& r) {
  if (ref.slot >= _conns.size()) {
    return;
  }
  Conn& c = _conns[ref.slot];
  if (c.gen != ref.gen || c.io.fd < 0 || !c.waiting) {
    return;
  }
  c.waiting = false;
  if (c.shut) {
    maybe_release(ref.slot);
    return;
  }
  answer(c, r, c.head);
  if (c.overflowed) {
    c.out += proto::http_error(429, "too many pipelined requests waiting", false);
  }
  serve(ref.slot);  // pipelined requests behind it
  flush(ref.slot);
}

void AdminServer::flush(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut || c.io.send_in_flight) {
    return;
  }
  if (c.tls) {
    // Encrypted in pieces: the session refuses to hold more than its
    // bound; what it refused goes after this send.
    constexpr size_t kPiece = 64 * 1024;
    while (!c.out.empty() && c.tls->handshake_done() && !c.tls->failed()) {
      const size_t n = std::min(c.out.size(), kPiece);
      if (!c.tls->write(std::string_view(c.out).substr(0, n)).ok()) {
        break;
      }
      c.out.erase(0, n);
    }
    if (c.tls->ciphertext_out().empty()) {
      if (c.closing && (c.out.empty() || c.tls->failed())) {
        linger(slot);
      }
      return;
    }
    c.io.sending.swap(c.tls->ciphertext_out());
    c.tls->ciphertext_out().clear();
    c.io.start_send(_ctx.ring, encode(Op::kAdminSend, slot, c.gen));
    return;
  }
  if (c.out.empty()) {
    if (c.closing) {
      linger(slot);
    }
    return;
  }
  c.io.sending.swap(c.out);
  c.out.clear();
  c.io.start_send(_ctx.ring, encode(Op::kAdminSend, slot, c.gen));
}

void AdminServer::on_send(uint32_t slot, io_uring_cqe* cqe) {
  Conn& c = _conns[slot];
  switch (c.io.on_send(_ctx.ring, c.shut ? -ECANCELED : cqe->res, encode(Op::kAdminSend, slot, c.gen))) {
    case SocketIo::SendState::kMore:
      return;
    case SocketIo::SendState::kError:
      shut(slot);
      break;
    case SocketIo::SendState::kDone:
      flush(slot);
      break;
  }
  maybe_release(slot);
}

void AdminServer::linger(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut || c.lingering) {
    return;
  }
  if (!c.io.recv_armed) {
    shut(slot);  // the client closed already: nothing to wait for
    return;
  }
  c.lingering = true;
  c.linger_until_ms = monotonic_ms() + kLingerMs;
  ::shutdown(c.io.fd, SHUT_WR);
}

void AdminServer::shut(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut) {
    return;
  }
  c.shut = true;
  c.input.clear();
  c.out.clear();
  c.io.shut(_ctx.ring, encode(Op::kAdminRecv, slot, c.gen));
  maybe_release(slot);
}

void AdminServer::maybe_release(uint32_t slot) {
  Conn& c = _conns[slot];
  // A request AdminApi holds keeps its slot until respond(): its ref must
  // not name a reused connection.
  if (c.io.fd < 0 || !c.shut || !c.io.idle() || c.waiting) {
    return;
  }
  c.io.release();
  c.parser.reset();
  c.tls.reset();
  c.input = std::string();
  c.out = std::string();
  _conns.release(slot);
}

void AdminServer::on_tick(int64_t now_ms) {
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Conn& c = _conns[slot];
    if (c.io.fd >= 0 && !c.shut && c.lingering) {
      if (now_ms >= c.linger_until_ms || _ctx.stopping) {
        shut(slot);
      }
      continue;
    }
    if (c.io.fd < 0 || c.shut || c.waiting || c.io.send_in_flight) {
      continue;
    }
    // Stopping: whatever is not being answered closes (nothing of it was
    // acknowledged, so a client simply retries elsewhere or later).
    if (now_ms - c.last_activity_ms >= kIdleMs || _ctx.stopping) {
      if (c.parser->in_message() && !_ctx.stopping) {
        c.out += proto::http_error(408, "request not completed in time", false);
        c.closing = true;
        flush(slot);
      } else {
        shut(slot);
      }
    }
  }
}

void AdminServer::begin_stop() {
  _api.calls().abandon_all();
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    io_uring_sqe* sqe = _ctx.ring.sqe();
    io_uring_prep_cancel64(sqe, encode(Op::kAdminAccept, i), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Conn& c = _conns[slot];
    if (c.io.fd >= 0 && !c.shut && !c.waiting && !c.io.send_in_flight && !c.parser->in_message()) {
      shut(slot);
    }
  }
}

}  // namespace ringmta

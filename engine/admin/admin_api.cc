// engine/admin/admin_api.cc — the routes and their handlers (admin_api.h).
#include "engine/admin/admin_api.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/admin/queue_view.h"
#include "proto/address.h"
#include "proto/json_text.h"

namespace ringmta {

AdminResponse json_error(int status, std::string_view message) {
  AdminResponse r;
  r.status = status;
  r.body = "{\"error\":";
  proto::append_json_string(&r.body, message);
  r.body += "}\n";
  return r;
}

std::optional<AdminResponse> AdminApi::handle(const proto::HttpMessage& req, AdminRequestRef ref,
                                              std::string_view client_addr) {
  const std::string_view path = req.path();
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == "/metrics") {
    if (!get) return json_error(405, "use GET for /metrics");
    return metrics();
  }
  if (_ctx.stopping && path != "/metrics" && path != "/api/v1/health") {
    return json_error(503, "ringmta is stopping; try again once it runs");
  }
  if (path == "/api/v1/inject") {
    if (req.method != "POST") return json_error(405, "use POST for /api/v1/inject");
    return _injection.start(req, ref, client_addr);
  }
  if (path == "/api/v1/queues") {
    if (!get) return json_error(405, "use GET for /api/v1/queues");
    return queues(req, ref);
  }
  if (path.substr(0, 17) == "/api/v1/messages/") {
    if (!get) return json_error(405, "use GET for /api/v1/messages/ID");
    return show(path.substr(17), ref);
  }
  if (path == "/api/v1/suspensions") {
    if (!get) return json_error(405, "use GET for /api/v1/suspensions");
    AdminResponse r;
    r.body = render_blocks(_state ? _state->blocks(absl::ToUnixSeconds(absl::Now())) : std::vector<AdminBlock>{});
    return r;
  }
  const bool post = req.method == "POST";
  if (path == "/api/v1/bounce") {
    if (!post) return json_error(405, "use POST for /api/v1/bounce");
    return bounce(req, ref);
  }
  if (path == "/api/v1/flush") {
    if (!post) return json_error(405, "use POST for /api/v1/flush");
    return flush(req, ref);
  }
  for (auto [name, hold, add] : {std::tuple{"/api/v1/suspend", false, true}, std::tuple{"/api/v1/resume", false, false},
                                 std::tuple{"/api/v1/hold", true, true}, std::tuple{"/api/v1/release", true, false}}) {
    if (path == name) {
      if (!post) return json_error(405, absl::StrCat("use POST for ", name));
      return block(req, ref, hold, add);
    }
  }
  if (path == "/api/v1/suppressions" || path.substr(0, 21) == "/api/v1/suppressions/") {
    return suppressions(req, ref);
  }
  if (path == "/api/v1/health") {
    if (!get) return json_error(405, "use GET for /api/v1/health");
    AdminResponse r;
    r.body = absl::StrCat("{\"status\":\"ok\",\"shard\":", _ctx.id, "}\n");
    return r;
  }
  return json_error(404, absl::StrCat("no such endpoint: ", req.method, " ", std::string(path),
                                      " (README \"Admin API\" lists them)"));
}

// ask sends call to every shard; done answers the request once all have.
// A stop before then answers 503 (a stopped shard answers nothing).
void AdminApi::ask(const AdminCall& call, AdminRequestRef ref, AdminCalls::Done done) {
  _calls.broadcast(call, std::move(done), [this, ref] {
    _respond(ref, json_error(503, "ringmta is stopping: not every shard answered (a change already recorded "
                                  "in the spool applies at the next start)"));
  });
}

std::optional<AdminResponse> AdminApi::queues(const proto::HttpMessage& req, AdminRequestRef ref) {
  AdminCall call;
  call.kind = AdminCall::Kind::kQueues;
  call.domain = absl::AsciiStrToLower(req.query_param("domain"));
  ask(call, ref, [this, ref](std::vector<AdminCallPtr> replies) {
    const int64_t now_s = absl::ToUnixSeconds(absl::Now());
    AdminResponse r;
    r.body = render_queues(replies, _state ? _state->blocks(now_s) : std::vector<AdminBlock>{}, now_s);
    _respond(ref, r);
  });
  return std::nullopt;
}

std::optional<AdminResponse> AdminApi::show(std::string_view id, AdminRequestRef ref) {
  if (id.empty() || id.size() > 64) {
    return json_error(400, "expected /api/v1/messages/QUEUEID");
  }
  AdminCall call;
  call.kind = AdminCall::Kind::kShow;
  call.queue_id = std::string(id);
  ask(call, ref, [this, ref, id = std::string(id)](std::vector<AdminCallPtr> replies) {
    for (const AdminCallPtr& c : replies) {
      if (!c->message.empty()) {
        AdminResponse r;
        r.body = c->message + "\n";
        _respond(ref, r);
        return;
      }
    }
    _respond(ref, json_error(404, absl::StrCat("no live message ", id,
                                               " (delivered, bounced, or never here; the event log has its fate)")));
  });
  return std::nullopt;
}

std::optional<AdminResponse> AdminApi::flush(const proto::HttpMessage& req, AdminRequestRef ref) {
  AdminCall call;
  call.kind = AdminCall::Kind::kFlush;
  call.domain = absl::AsciiStrToLower(req.query_param("domain"));
  ask(call, ref, [this, ref](std::vector<AdminCallPtr> replies) {
    uint64_t n = 0;
    for (const AdminCallPtr& c : replies) n += c->count;
    AdminResponse r;
    r.body = absl::StrCat("{\"flushed_recipients\":", n, "}\n");
    _respond(ref, r);
  });
  return std::nullopt;
}

std::optional<AdminResponse> AdminApi::bounce(const proto::HttpMessage& req, AdminRequestRef ref) {
  AdminCall call;
  call.kind = AdminCall::Kind::kBounce;
  AdminBounce& b = call.bounce;
  b.domain = absl::AsciiStrToLower(req.query_param("domain"));
  b.queue_id = req.query_param("queue_id");
  b.sender = req.query_param("sender");
  b.campaign = req.query_param("campaign");
  b.reason = req.query_param("reason").substr(0, 200);
  const std::string dsn = req.query_param("dsn");
  if (dsn != "" && dsn != "true" && dsn != "false") {
    return json_error(400, absl::StrCat("dsn: expected true or false, got ", dsn));
  }
  b.dsn = dsn != "false";
  const int selectors = !b.domain.empty() + !b.queue_id.empty() + !b.sender.empty() + !b.campaign.empty();
  if (selectors != 1) {
    return json_error(400, "say which messages: exactly one of domain=D, queue_id=ID, sender=S, campaign=C");
  }
  if (!b.domain.empty() && !proto::valid_dns_name(b.domain)) {
    return json_error(400, absl::StrCat("not a domain name: ", b.domain));
  }
  const bool checked = !b.sender.empty() || !b.campaign.empty();
  ask(call, ref, [this, ref, checked](std::vector<AdminCallPtr> replies) {
    uint64_t n = 0;
    for (const AdminCallPtr& c : replies) n += c->count;
    AdminResponse r;
    r.body = absl::StrCat("{\"", checked ? "checking" : "bouncing", "\":", n, "}\n");
    _respond(ref, r);
  });
  return std::nullopt;
}

namespace {

// parse_duration: "90s", "15m", "1h", "2h30m", "1d".
bool parse_duration(std::string_view text, absl::Duration* out) {
  if (text.size() > 1 && text.back() == 'd') {
    int64_t days = 0;
    if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size() - 1), &days) || days <= 0 || days > 365) {
      return false;
    }
    *out = absl::Hours(24 * days);
    return true;
  }
  return absl::ParseDuration(absl::string_view(text.data(), text.size()), out) && *out > absl::ZeroDuration();
}

}  // namespace

std::optional<AdminResponse> AdminApi::block(const proto::HttpMessage& req, AdminRequestRef ref, bool hold,
                                             bool add) {
  if (_state == nullptr) {
    return json_error(503, "suspensions and holds are not available here");
  }
  const std::string domain = absl::AsciiStrToLower(req.query_param("domain"));
  if (!proto::valid_dns_name(domain)) {
    return json_error(400, domain.empty() ? "domain=D is required" : absl::StrCat("not a domain name: ", domain));
  }
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  absl::Duration duration = absl::Hours(1);
  if (const std::string d = req.query_param("duration"); add && !hold && !d.empty() && !parse_duration(d, &duration)) {
    return json_error(400, absl::StrCat("duration: expected 90s, 15m, 1h, 2h30m or 1d, got ", d));
  }
  const std::string reason = req.query_param("reason").substr(0, 200);
  bool found = false;
  absl::StatusOr<AdminState::Changed> changed = _state->change(
      [&](std::vector<AdminBlock>& list) {
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const AdminBlock& b) { return b.domain == domain && b.hold == hold; });
        found = it != list.end();
        if (!add) {
          if (found) list.erase(it);
          return;
        }
        AdminBlock b{domain, hold, hold ? 0 : now_s + absl::ToInt64Seconds(duration), reason, now_s};
        if (found) {
          *it = std::move(b);
        } else {
          list.push_back(std::move(b));
        }
      },
      now_s);
  if (!changed.ok()) {
    return json_error(500, absl::StrCat("could not record it durably: ", changed.status().message()));
  }
  if (!add && !found) {
    return json_error(404, absl::StrCat(domain, " is not ", hold ? "held" : "suspended"));
  }
  AdminCall call;
  call.kind = AdminCall::Kind::kSetBlocks;
  call.blocks = std::move(changed->blocks);
  call.blocks_version = changed->version;
  const int64_t until = hold ? 0 : now_s + absl::ToInt64Seconds(duration);
  auto answer = [this, ref, domain, hold, add, until] {
    AdminResponse r;
    r.body = absl::StrCat("{\"domain\":\"", domain, "\",\"", hold ? (add ? "held" : "released") : (add ? "suspended" : "resumed"),
                          "\":true", add && !hold ? absl::StrCat(",\"until\":", until) : "", "}\n");
    _respond(ref, r);
  };
  ask(call, ref, [this, ref, domain, add, answer](std::vector<AdminCallPtr>) {
    if (add) {
      answer();
      return;
    }
    // Released or resumed: the domain's mail goes now, not at its next
    // retry. Only once every shard has dropped the block (a second round),
    // so that no owner still holds what an origin flushes.
    AdminCall flush;
    flush.kind = AdminCall::Kind::kFlush;
    flush.domain = domain;
    ask(flush, ref, [answer](std::vector<AdminCallPtr>) { answer(); });
  });
  return std::nullopt;
}

AdminResponse AdminApi::metrics() const {
  AdminResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (_board == nullptr) {
    return r;
  }
  MetricsExtra extra;
  extra.spool_bytes = spool_bytes();
  extra.now_s = absl::ToUnixSeconds(absl::Now());
  if (_suppression != nullptr) {
    const SuppressionCounts c = _suppression->reader().counts();
    extra.suppression_entries = static_cast<int64_t>(c.addresses + c.domains);
  }
  r.body = render_prometheus(_board->read(), extra);
  return r;
}

// spool_bytes adds up the segment files under the spool directory (one
// directory per shard). A scrape is rare next to the shard's other work,
// and a few dozen fstatat calls on cached inodes take microseconds, so
// this stays a plain walk rather than a counter every shard would keep.
uint64_t AdminApi::spool_bytes() const {
  uint64_t total = 0;
  DIR* top = opendir(_ctx.config.spool_dir.c_str());
  if (top == nullptr) {
    return 0;
  }
  while (dirent* d = readdir(top)) {
    if (d->d_name[0] == '.') continue;
    const int sub = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) continue;
    DIR* dir = fdopendir(sub);
    if (dir == nullptr) {
      close(sub);
      continue;
    }
    while (dirent* f = readdir(dir)) {
      struct stat st {};
      if (f->d_name[0] != '.' && fstatat(dirfd(dir), f->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
        total += static_cast<uint64_t>(st.st_size);
      }
    }
    closedir(dir);
  }
  closedir(top);
  return total;
}

}  // namespace ringmta

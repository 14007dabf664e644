// engine/admin/admin_api.cc — the routes and their handlers (admin_api.h).
#include "engine/admin/admin_api.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
  if (path == "/api/v1/inject") {
    if (req.method != "POST") return json_error(405, "use POST for /api/v1/inject");
    return _injection.start(req, ref, client_addr);
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

AdminResponse AdminApi::metrics() const {
  AdminResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (_board == nullptr) {
    return r;
  }
  MetricsExtra extra;
  extra.spool_bytes = spool_bytes();
  extra.now_s = absl::ToUnixSeconds(absl::Now());
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

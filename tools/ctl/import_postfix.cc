// tools/ctl/import_postfix.cc — `ringmta-ctl import-postfix [DIR]` (main.cf
// and master.cf as ringmta TOML) and `ringmta-ctl import-postfix-queue
// [QUEUE_DIR]` (every queued Postfix message as a maildrop file, for the
// engine's pickup). The readers and the mapping are pure, in tools/postfix/;
// this file runs postconf, walks the queue and writes.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/config/toml_support.h"
#include "engine/runtime/absl_compat.h"
#include "spool/maildrop.h"
#include "tools/ctl/command.h"
#include "tools/ctl/commands.h"
#include "tools/postfix/postfix_config.h"
#include "tools/postfix/postfix_queue_file.h"

extern char** environ;

namespace ringmta::ctl {
namespace {

absl::StatusOr<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// find_postconf: postconf's path, or "" when Postfix is not installed.
std::string find_postconf() {
  for (const char* p : {"/usr/sbin/postconf", "/usr/local/sbin/postconf", "/usr/bin/postconf"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// capture: what argv prints on stdout (stderr passes through); an error
// when it exits non-zero.
absl::StatusOr<std::string> capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return absl::InternalError(absl::StrCat(argv[0], ": posix_spawn: ", strerror(rc)));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(argv[0], " ", argv.size() > 1 ? argv[1] : "", " ", argv.size() > 2 ? argv[2] : "", "... failed"));
  }
  return out;
}

int run_import_postfix(const Command& c, const Flags& f) {
  const std::string dir = f.get("", "/etc/postfix");
  const std::string postconf = f.has("no-postconf") ? "" : find_postconf();
  std::string main_cf;
  std::string master_cf;
  postfix::PostfixParams params;
  for (const char* name : {"/main.cf", "/master.cf"}) {
    if (access((dir + name).c_str(), R_OK) != 0) {
      return usage_error(c, absl::StrCat(dir, name, ": ", strerror(errno), " (DIR is Postfix's config_directory)"));
    }
  }
  if (!postconf.empty()) {
    absl::StatusOr<std::string> n = capture({postconf, "-c", dir, "-n", "-x"});
    absl::StatusOr<std::string> m = capture({postconf, "-c", dir, "-M"});
    if (!n.ok() || !m.ok()) {
      std::fprintf(stderr, "ringmta-ctl import-postfix: %s\n",
                   std::string((n.ok() ? m : n).status().message()).c_str());
      return kExitUsage;
    }
    params = postfix::parse_main_cf(*n);
    master_cf = std::move(*m);
  } else {
    absl::StatusOr<std::string> n = read_text(dir + "/main.cf");
    absl::StatusOr<std::string> m = read_text(dir + "/master.cf");
    if (!n.ok()) return usage_error(c, sv(n.status().message()));
    if (!m.ok()) return usage_error(c, sv(m.status().message()));
    params = postfix::parse_main_cf(*n);
    postfix::expand_params(&params);
    master_cf = std::move(*m);
  }
  const std::vector<postfix::MasterService> services = postfix::parse_master_cf(master_cf);
  postfix::ImportResult r = postfix::map_postfix_config(
      params, services, [](const std::string& p) { return read_text(p); },
      absl::StrCat(dir, postconf.empty() ? "" : ", read with postconf"));
  if (f.has("output")) {
    const std::string out = f.get("output");
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    o << r.toml;
    o.close();
    if (!o) {
      std::fprintf(stderr, "ringmta-ctl import-postfix: writing %s: %s\n", out.c_str(), strerror(errno));
      return kExitFailed;
    }
    std::fprintf(stderr, "wrote %s; %zu Postfix settings not imported (listed at its end)\n", out.c_str(),
                 r.unmapped.size());
  } else {
    std::fputs(r.toml.c_str(), stdout);
  }
  return kExitOk;
}

// --- import-postfix-queue ---------------------------------------------------

// maildrop_dir: --maildrop, else --config's submit.maildrop or
// spool.dir/maildrop, else /var/spool/ringmta/maildrop.
absl::StatusOr<std::string> maildrop_dir(const Flags& f) {
  if (f.has("maildrop")) return f.get("maildrop");
  if (f.has("config")) {
    const std::string file = f.get("config");
    toml::parse_result res = toml::parse_file(file);
    if (!res) return toml_parse_error(absl::StrCat("config ", file), res.error());
    if (auto v = res.table().at_path("submit.maildrop").value<std::string>()) return *v;
    if (auto v = res.table().at_path("spool.dir").value<std::string>()) return *v + "/maildrop";
  }
  return std::string("/var/spool/ringmta/maildrop");
}

// postfix_running: the live pid in QUEUE_DIR/pid/master.pid, or 0.
long postfix_running(const std::string& queue_dir) {
  absl::StatusOr<std::string> text = read_text(queue_dir + "/pid/master.pid");
  if (!text.ok()) return 0;
  const long pid = std::strtol(text->c_str(), nullptr, 10);
  if (pid <= 0) return 0;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM ? pid : 0;
}

struct QueueFile {
  std::string queue;  // incoming, active, deferred, hold
  std::string path;
  std::string id;
};

// walk: every regular file under dir (hashed subdirectories too).
void walk(const std::string& queue, const std::string& dir, int depth, std::vector<QueueFile>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && depth < 4) {
      walk(queue, path, depth + 1, out);
    } else if (S_ISREG(st.st_mode)) {
      out->push_back({queue, path, name});
    }
  }
  closedir(d);
}

bool mkdirs(const std::string& dir, mode_t mode) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (mkdir(dir.substr(0, i).c_str(), mode) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

void fsync_dir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

std::string time_text(int64_t us) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int run_import_queue(const Command& c, const Flags& f) {
  const std::string queue_dir = f.get("", "/var/spool/postfix");
  const bool dry_run = f.has("dry-run");
  struct stat st;
  if (stat(queue_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return usage_error(c, absl::StrCat(queue_dir, ": not a directory (the Postfix queue_directory)"));
  }
  if (const long pid = postfix_running(queue_dir); pid != 0) {
    std::fprintf(stderr,
                 "ringmta-ctl import-postfix-queue: Postfix is running (pid %ld in %s/pid/master.pid): "
                 "stop Postfix first: postfix stop\n",
                 pid, queue_dir.c_str());
    return kExitFailed;
  }
  absl::StatusOr<std::string> maildrop = maildrop_dir(f);
  if (!maildrop.ok()) return usage_error(c, sv(maildrop.status().message()));
  const std::string imported_dir = queue_dir + "/ringmta-imported";
  if (!dry_run && (!mkdirs(*maildrop, 0700) || !mkdirs(imported_dir, 0700))) {
    std::fprintf(stderr, "ringmta-ctl import-postfix-queue: mkdir %s: %s\n", maildrop->c_str(), strerror(errno));
    return kExitFailed;
  }
  std::vector<QueueFile> files;
  for (const char* q : {"incoming", "active", "deferred", "hold"}) {
    walk(q, queue_dir + "/" + q, 0, &files);
  }
  const absl::Time start = absl::Now();
  const double cpu_start = cpu_seconds();
  size_t imported = 0;
  size_t recipients = 0;
  size_t done = 0;
  std::vector<std::string> skipped;
  if (dry_run) {
    std::printf("%-16s %-9s %-40s %5s  %-19s %9s\n", "QUEUE ID", "QUEUE", "SENDER", "RCPTS", "ARRIVAL (UTC)", "SIZE");
  }
  for (const QueueFile& q : files) {
    if (done > 0 && done % 1000 == 0) {
      std::fprintf(stderr, "... %zu of %zu files, %zu %s\n", done, files.size(), imported,
                   dry_run ? "to import" : "imported");
    }
    ++done;
    struct stat fst;
    if (stat(q.path.c_str(), &fst) != 0) {
      skipped.push_back(absl::StrCat(q.id, " (", strerror(errno), ")"));
      continue;
    }
    // cleanup sets the owner-execute bit when a queue file is complete.
    if (q.queue == "incoming" && (fst.st_mode & S_IXUSR) == 0) {
      skipped.push_back(absl::StrCat(q.id, " (incoming, unfinished)"));
      continue;
    }
    absl::StatusOr<std::string> bytes = read_text(q.path);
    if (!bytes.ok()) {
      skipped.push_back(absl::StrCat(q.id, " (", bytes.status().message(), ")"));
      continue;
    }
    absl::StatusOr<postfix::PostfixMessage> m = postfix::parse_postfix_queue_file(*bytes, q.id);
    if (!m.ok()) {
      skipped.push_back(absl::StrCat(q.id, " (", m.status().message(), ")"));
      continue;
    }
    if (m->recipients.empty()) {
      skipped.push_back(absl::StrCat(q.id, " (no recipient left to deliver)"));
      continue;
    }
    if (dry_run) {
      std::printf("%-16s %-9s %-40s %5zu  %-19s %9zu\n", q.id.c_str(), q.queue.c_str(),
                  m->sender.empty() ? "<>" : m->sender.c_str(), m->recipients.size(), time_text(m->arrival_us).c_str(),
                  m->content.size());
      ++imported;
      recipients += m->recipients.size();
      continue;
    }
    spool::MaildropEnvelope env;
    env.sender = m->sender;
    env.recipients = std::move(m->recipients);
    env.arrival_us = m->arrival_us;
    env.origin = absl::StrCat("postfix ", q.id);
    const size_t n = env.recipients.size();
    // Written (durably) before the queue file moves: a crash in between
    // imports this message again on the next run, it never loses it.
    absl::StatusOr<std::string> name = spool::write_maildrop(*maildrop, env, m->content);
    if (!name.ok()) {
      skipped.push_back(absl::StrCat(q.id, " (", name.status().message(), ")"));
      continue;
    }
    // Short queue ids are reused over time: never replace an earlier import.
    std::string target = imported_dir + "/" + q.id;
    for (int n = 1; access(target.c_str(), F_OK) == 0; ++n) {
      target = absl::StrCat(imported_dir, "/", q.id, ".", n);
    }
    if (rename(q.path.c_str(), target.c_str()) != 0) {
      std::fprintf(stderr,
                   "ringmta-ctl import-postfix-queue: %s imported as %s but rename into %s failed: %s "
                   "(move it yourself, or a second run imports it again)\n",
                   q.path.c_str(), name->c_str(), imported_dir.c_str(), strerror(errno));
      return kExitFailed;
    }
    ++imported;
    recipients += n;
  }
  if (!dry_run) fsync_dir(imported_dir);
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = cpu_seconds() - cpu_start;
  std::string skip_text = absl::StrCat(skipped.size(), " skipped");
  for (size_t i = 0; i < skipped.size() && i < 20; ++i) absl::StrAppend(&skip_text, i ? ", " : ": ", skipped[i]);
  if (skipped.size() > 20) absl::StrAppend(&skip_text, ", ...");
  std::printf("%s %zu messages (%zu recipients) from %s into %s%s; %s\n", dry_run ? "would import" : "imported",
              imported, recipients, queue_dir.c_str(), maildrop->c_str(), dry_run ? " (dry run: nothing written)" : "",
              skip_text.c_str());
  std::fprintf(stderr, "took %.3f s (%.3f CPU s)\n", secs, cpu);
  return skipped.empty() ? kExitOk : kExitFailed;
}

}  // namespace

const Command& import_postfix_command() {
  static const Command c{
      "",
      "import-postfix",
      "a Postfix main.cf and master.cf as ringmta TOML",
      "Reads DIR's main.cf and master.cf (default /etc/postfix; with `postconf -c DIR -n -x` and\n"
      "`postconf -c DIR -M` when Postfix is installed, else itself) and writes a ringmta TOML\n"
      "file to stdout or --output FILE: hostname, listeners, relay networks and domains, relayhost,\n"
      "transport_maps routes, limits, TLS, retry times and per-destination shaping. Every setting\n"
      "main.cf sets that has no ringmta equivalent is listed at the end, commented, with why.\n"
      "Check the result with: ringmta --config FILE --check-config\n\n"
      "Example: ringmta-ctl import-postfix /etc/postfix --output /etc/ringmta/ringmta.toml",
      {{"output", "FILE", "write the TOML to FILE instead of standard output"},
       {"no-postconf", "", "read main.cf and master.cf without postconf"}},
      run_import_postfix};
  return c;
}

const Command& import_postfix_queue_command() {
  static const Command c{
      "",
      "import-postfix-queue",
      "move a stopped Postfix's queued mail into ringmta's maildrop",
      "Reads every queue file in QUEUE_DIR's incoming/, active/, deferred/ and hold/ (default\n"
      "/var/spool/postfix; Postfix must be stopped), writes one maildrop file per message (sender,\n"
      "recipients not yet delivered, arrival time, content; origin \"postfix QUEUEID\") that ringmta's\n"
      "pickup injects, then moves the queue file into QUEUE_DIR/ringmta-imported/, so a second run\n"
      "imports nothing. The maildrop is --maildrop, else --config's submit.maildrop or\n"
      "spool.dir/maildrop, else /var/spool/ringmta/maildrop. Exit status 1 if a file was skipped.\n\n"
      "Example: postfix stop && ringmta-ctl import-postfix-queue --config /etc/ringmta/ringmta.toml",
      {{"maildrop", "DIR", "the maildrop directory to write into"},
       {"config", "FILE", "ringmta's config file, for its maildrop"},
       {"dry-run", "", "list the messages (queue id, sender, recipients, arrival, size); write nothing"}},
      run_import_queue};
  return c;
}

}  // namespace ringmta::ctl

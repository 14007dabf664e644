// engine/daemon/process_setup.cc — CPUs, the open-file limit and dropping
// root (process_setup.h).
#include "engine/daemon/process_setup.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/daemon/privileges.h"
#include "engine/runtime/log.h"

namespace ringmta {

std::vector<int> usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) {
        cpus.push_back(i);
      }
    }
  }
  if (cpus.empty()) {
    cpus.push_back(0);
  }
  return cpus;
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

absl::Status drop_root(const Config& config) {
  if (geteuid() != 0) {
    return absl::OkStatus();
  }
  std::optional<RunAs> who = lookup_user(config.user);
  if (!who) {
    log_warn("user '%s' does not exist: running as root. Create it (tools/setup.sh does: "
             "useradd --system --no-create-home --shell /usr/sbin/nologin %s) or choose one with --user",
             config.user, config.user);
    return absl::OkStatus();
  }
  if (who->uid == 0) {
    log_warn("--user %s is root: running with every privilege", config.user);
    return absl::OkStatus();
  }
  std::vector<std::string> files;
  if (!config.event_log.empty()) {
    files.push_back(config.event_log);
  }
  if (!config.feedback_domains.empty() && config.feedback_key_file.rfind(config.spool_dir + "/", 0) != 0) {
    files.push_back(config.feedback_key_file);  // outside the spool
  }
  std::vector<std::string> dirs = {config.spool_dir};
  if (config.suppression && config.suppression_dir.rfind(config.spool_dir + "/", 0) != 0) {
    dirs.push_back(config.suppression_dir);  // outside the spool
  }
  if (!config.maildrop_dir.empty() && config.maildrop_dir.rfind(config.spool_dir + "/", 0) != 0) {
    dirs.push_back(config.maildrop_dir);  // outside the spool
  }
  absl::Status s = give_files(*who, dirs, files, config.maildrop_dir);
  if (s.ok()) {
    s = become(*who);
  }
  if (s.ok() && access(config.spool_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the spool ", config.spool_dir, " is out of reach of user ", config.user,
        " (a parent directory is closed to it): open the parents with chmod o+x, or choose another --spool"));
  }
  if (s.ok()) {
    log_info("running as user %s (uid %u)", who->name, static_cast<unsigned>(who->uid));
  }
  return s;
}

absl::Status prepare_maildrop(const Config& config) {
  const std::string& dir = config.maildrop_dir;
  if (dir.empty()) {
    return absl::OkStatus();
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat("--maildrop ", dir, ": mkdir: ", strerror(errno),
                                                      " (make its parent, or choose another --maildrop)"));
  }
  struct stat st{};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--maildrop ", dir, ": not a directory (a link is not followed): move it away"));
  }
  if ((st.st_mode & 07777) != kSharedDirMode && chmod(dir.c_str(), kSharedDirMode) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("--maildrop ", dir, ": chmod: ", strerror(errno)));
  }
  // Inside the spool, the directories on the way must let local users
  // pass (not list): drop_root keeps it so when it hands them over.
  const std::string root = config.spool_dir + "/";
  if (dir.rfind(root, 0) == 0) {
    for (size_t at = config.spool_dir.size(); at != std::string::npos && at < dir.size(); at = dir.find('/', at + 1)) {
      const std::string up = dir.substr(0, at);
      if (stat(up.c_str(), &st) == 0 && (st.st_mode & 0111) != 0111) {
        chmod(up.c_str(), (st.st_mode & 07777) | 0111);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ringmta

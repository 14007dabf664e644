// tools/sendmail/queue_commands.cc — -bp and -q through ringmta-ctl
// (queue_commands.h). fork and exec rather than exec alone, so that a
// failure can be explained after ringmta-ctl's own message.
#include "tools/sendmail/queue_commands.h"

#include <limits.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace ringmta::sendmail {

std::string find_ctl() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    // Installed: both in the prefix's bin/sbin; the build tree: tools/sendmail/ next to tools/ctl/.
    for (const char* rel : {"ringmta-ctl", "../bin/ringmta-ctl", "../ctl/ringmta-ctl"}) {
      std::string p = dir + rel;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string p = dir + "/ringmta-ctl";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

int run_ctl(const std::string& command, const std::string& admin_url) {
  std::string ctl = find_ctl();
  if (ctl.empty()) {
    std::fprintf(stderr,
                 "ringmta-sendmail: ringmta-ctl not found next to this program or in PATH; the queue is "
                 "the running ringmta's: use `ringmta-ctl %s` (or its admin API) where it is installed\n",
                 command.c_str());
    return EX_UNAVAILABLE;
  }
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "ringmta-sendmail: fork: %s\n", std::strerror(errno));
    return EX_OSERR;
  }
  if (pid == 0) {
    if (admin_url.empty()) {
      ::execl(ctl.c_str(), ctl.c_str(), command.c_str(), static_cast<char*>(nullptr));
    } else {
      ::execl(ctl.c_str(), ctl.c_str(), command.c_str(), "--admin", admin_url.c_str(), static_cast<char*>(nullptr));
    }
    std::fprintf(stderr, "ringmta-sendmail: cannot run %s: %s\n", ctl.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return EX_OK;
  std::fprintf(stderr,
               "ringmta-sendmail: `%s %s` failed: is ringmta running with its admin API at %s "
               "(admin.listen in the config)?\n",
               ctl.c_str(), command.c_str(), admin_url.empty() ? "http://127.0.0.1:8025" : admin_url.c_str());
  return EX_UNAVAILABLE;
}

}  // namespace ringmta::sendmail

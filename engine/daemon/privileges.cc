#include "engine/daemon/privileges.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringmta {
namespace {

// nftw's callback has no user pointer: the tree walk runs once, at start,
// on the main thread, so file-scope state is safe.
const RunAs* g_owner = nullptr;
std::string g_shared;  // the maildrop: its own mode, its files left alone
std::string g_error;

int own_entry(const char* path, const struct stat* st, int type, FTW*) {
  if (type == FTW_SL) {
    return FTW_CONTINUE;  // never follow or chown a link
  }
  const bool dir = type == FTW_D || type == FTW_DP;
  const std::string_view p = path;
  mode_t mode = dir ? 0700 : 0600;
  if (!g_shared.empty() && dir) {
    if (p == g_shared) {
      mode = kSharedDirMode;  // local users' files: theirs, never read here
    } else if (g_shared.size() > p.size() && g_shared.compare(0, p.size(), p) == 0 && g_shared[p.size()] == '/') {
      mode = 0711;  // on the way to it: passable, not listable
    }
  }
  if (lchown(path, g_owner->uid, g_owner->gid) != 0 || ((st->st_mode & 07777) != mode && chmod(path, mode) != 0)) {
    g_error = absl::StrCat(path, ": ", strerror(errno));
    return FTW_STOP;
  }
  return dir && p == g_shared ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
}

}  // namespace

std::optional<RunAs> lookup_user(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return RunAs{name, pw.pw_uid, pw.pw_gid};
}

absl::Status give_files(const RunAs& who, const std::vector<std::string>& dirs,
                        const std::vector<std::string>& files, const std::string& shared_dir) {
  g_owner = &who;
  g_shared = shared_dir;
  for (const std::string& dir : dirs) {
    g_error.clear();
    if (nftw(dir.c_str(), own_entry, 16, FTW_PHYS | FTW_ACTIONRETVAL) != FTW_CONTINUE) {
      return absl::InternalError(absl::StrCat("giving ", dir, " to user ", who.name, ": ",
                                              g_error.empty() ? strerror(errno) : g_error));
    }
  }
  for (const std::string& file : files) {
    if (lchown(file.c_str(), who.uid, who.gid) != 0) {
      return absl::InternalError(
          absl::StrCat("giving ", file, " to user ", who.name, ": ", strerror(errno)));
    }
  }
  g_owner = nullptr;
  return absl::OkStatus();
}

absl::Status become(const RunAs& who) {
  if (setgroups(1, &who.gid) != 0 || setgid(who.gid) != 0 || setuid(who.uid) != 0) {
    return absl::InternalError(absl::StrCat("cannot become user ", who.name, ": ", strerror(errno)));
  }
  if (who.uid != 0 && setuid(0) == 0) {
    return absl::InternalError(absl::StrCat("dropped to ", who.name, " but root could be regained"));
  }
  return absl::OkStatus();
}

}  // namespace ringmta

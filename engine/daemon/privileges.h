// engine/daemon/privileges.h — least privilege: started as root (to bind ports 25,
// 465, 587 and read the TLS key), the daemon hands its files to an
// unprivileged user and becomes that user before any network input is read.
//
//   absl::StatusOr<std::optional<RunAs>> who = lookup_user("ringmta");
//   if (who.ok() && *who) {
//     give_files(**who, {spool_dir}, {event_log});   // while still root
//     become(**who);                                  // no way back
//   }
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ringmta {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// lookup_user: the user's ids, or nullopt when there is no such user.
std::optional<RunAs> lookup_user(const std::string& name);

// The mode of a directory every local user may drop files into, like
// /tmp but not listable (the maildrop: engine/inbound/maildrop_reader.h).
inline constexpr mode_t kSharedDirMode = 01733;

// give_files makes each tree in dirs (directories 0700, files 0600) and
// each file in files (mode kept) belong to who. Symbolic links are not
// followed, so a link planted in the spool cannot redirect the chown.
// shared_dir (may be ""): a directory inside one of the trees that gets
// kSharedDirMode and whose files are left as they are; the directories
// above it in the tree get 0711, so that other users can reach it.
absl::Status give_files(const RunAs& who, const std::vector<std::string>& dirs,
                        const std::vector<std::string>& files, const std::string& shared_dir = "");

// become drops every privilege for good: supplementary groups, gid, uid;
// it checks that root cannot be regained.
absl::Status become(const RunAs& who);

}  // namespace ringmta

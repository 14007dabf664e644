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

// give_files makes each tree in dirs (directories 0700, files 0600) and
// each file in files (mode kept) belong to who. Symbolic links are not
// followed, so a link planted in the spool cannot redirect the chown.
absl::Status give_files(const RunAs& who, const std::vector<std::string>& dirs,
                        const std::vector<std::string>& files);

// become drops every privilege for good: supplementary groups, gid, uid;
// it checks that root cannot be regained.
absl::Status become(const RunAs& who);

}  // namespace ringmta

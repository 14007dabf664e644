// engine/daemon/process_setup.h — the process around the shards: which CPUs
// it may run on, its open-file limit, and giving up root once the ports,
// keys and files are open.
//
//   std::vector<int> cpus = usable_cpus();   // one shard each, by default
//   raise_fd_limit();
//   absl::Status s = drop_root(config);      // before a shard reads the network
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "engine/config/config.h"

namespace ringmta {

// usable_cpus lists the CPUs this process may run on (its affinity mask);
// never empty.
std::vector<int> usable_cpus();

// raise_fd_limit lifts the soft open-file limit to the hard one: every
// connection is a descriptor, and the usual soft limit (1024) is far below
// what one shard serves.
void raise_fd_limit();

// prepare_maildrop makes the maildrop directory (config.maildrop_dir, if
// any) with mode 01733, so that every local user's ringmta-sendmail can
// leave files in it and none can list or take another's, like /tmp;
// inside the spool, the directories above it get o+x.
absl::Status prepare_maildrop(const Config& config);

// drop_root gives the spool and the event log to --user and becomes it.
// The maildrop keeps its mode, and its files their owners.
// Not root: nothing to drop. No such user: a warning, and root it stays.
absl::Status drop_root(const Config& config);

}  // namespace ringmta

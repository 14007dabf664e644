// tools/sendmail/queue_commands.h — sendmail -bp (mailq) and -q: the queue
// is the running daemon's, so these run `ringmta-ctl queue` and
// `ringmta-ctl flush` (tools/ctl/commands.h), which talk to its admin API.
//
//   return run_ctl("queue", settings.admin_url);   // its exit status, or EX_UNAVAILABLE with a message
#pragma once

#include <string>

namespace ringmta::sendmail {

// find_ctl: ringmta-ctl in the directory of this program (installed side
// by side, or in the build tree), else the first in $PATH; "" if none.
std::string find_ctl();

// run_ctl runs `ringmta-ctl COMMAND [--admin URL]` with our stdin/stdout/stderr and
// returns its exit status; when it cannot be run, or fails, prints what to
// do instead and returns EX_UNAVAILABLE.
int run_ctl(const std::string& command, const std::string& admin_url);

}  // namespace ringmta::sendmail

// tools/sendmail/stdio_relay.h — sendmail -bs: the caller speaks SMTP on
// our stdin/stdout, and every byte goes to the server and back unchanged,
// so the caller sees ringmta's own replies (its limits, its queue ids).
//
//   return relay_stdio(settings.server);   // exit status
#pragma once

#include "tools/sendmail/server_config.h"

namespace ringmta::sendmail {

// relay_stdio copies stdin to the server and the server to stdout until the
// server closes (after QUIT) or stdin ends (then the server's last replies
// are still copied). Server unreachable: a "421" greeting on stdout, so an
// SMTP caller reads why, and EX_TEMPFAIL.
int relay_stdio(const HostPort& server, const std::string& server_text);

}  // namespace ringmta::sendmail

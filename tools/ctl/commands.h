// tools/ctl/commands.h — every ringmta-ctl command, one function each;
// main.cc's table lists them by group.
#pragma once

#include "tools/ctl/command.h"

namespace ringmta::ctl {

const Command& dkim_keygen_command();  // dkim_keygen.cc
const Command& dns_check_command();    // dns_check.cc

}  // namespace ringmta::ctl

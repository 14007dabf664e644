// tools/ctl/commands.h — every ringmta-ctl command, one function each;
// main.cc's table lists them by group.
#pragma once

#include "tools/ctl/command.h"

namespace ringmta::ctl {

const Command& dkim_keygen_command();  // dkim_keygen.cc
const Command& dns_check_command();    // dns_check.cc

// The running daemon's queue, through its admin API (queue_commands.cc).
const Command& queue_command();
const Command& show_command();
const Command& flush_command();
const Command& suspend_command();
const Command& resume_command();
const Command& suspend_list_command();
const Command& hold_command();
const Command& release_command();
const Command& bounce_command();

// The suppression list, through the admin API (suppress_commands.cc).
const Command& suppress_add_command();
const Command& suppress_remove_command();
const Command& suppress_check_command();
const Command& suppress_list_command();
const Command& suppress_import_command();
const Command& suppress_export_command();

// From Postfix (import_postfix.cc): its configuration, its queue.
const Command& import_postfix_command();
const Command& import_postfix_queue_command();

}  // namespace ringmta::ctl

// ringmta-ctl — the operator's command line beside the daemon:
//
//   ringmta-ctl dkim keygen --domain example.com --selector s2026 --out /etc/ringmta/dkim
//   ringmta-ctl dns check --domain example.com --config /etc/ringmta/ringmta.toml
//
// Commands are `ringmta-ctl GROUP COMMAND [FLAGS]`, each defined in a file
// of its own (command.h); this file is the table and the dispatch. Exit
// status: 0 ok, 1 a check failed or nothing was done, 2 usage error.
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/command.h"
#include "tools/ctl/commands.h"

namespace ringmta::ctl {
namespace {

// Commands without a group: the running daemon's queue (`ringmta-ctl queue`).
const std::vector<const Command*>& queue_commands() {
  static const std::vector<const Command*> kCommands = {
      &queue_command(),   &show_command(), &flush_command(), &suspend_command(), &resume_command(),
      &suspend_list_command(), &hold_command(), &release_command(), &bounce_command(),
      &import_postfix_command(), &import_postfix_queue_command(),
  };
  return kCommands;
}

const std::vector<Group>& groups() {
  static const std::vector<Group> kGroups = {
      {"dkim", "DKIM signing keys", {&dkim_keygen_command()}},
      {"dns", "the DNS records receivers check (DKIM, SPF, DMARC, reverse DNS)", {&dns_check_command()}},
      {"suppress",
       "the suppression list: addresses never mailed",
       {&suppress_add_command(), &suppress_remove_command(), &suppress_check_command(), &suppress_list_command(),
        &suppress_import_command(), &suppress_export_command()}},
  };
  return kGroups;
}

std::string group_names() {
  return absl::StrJoin(groups(), ", ", [](std::string* out, const Group& g) { out->append(g.name); });
}

void print_help(std::FILE* out) {
  std::fprintf(out,
               "Usage: ringmta-ctl GROUP COMMAND [FLAGS]\n"
               "       ringmta-ctl COMMAND [FLAGS]\n"
               "ringmta-ctl sets up and checks what ringmta needs outside itself, and works the\n"
               "running daemon's queue through its admin API (--admin URL, default http://127.0.0.1:8025).\n\n");
  for (const Command* c : queue_commands()) {
    std::fprintf(out, "  %-20.*s %.*s\n", static_cast<int>(c->name.size()), c->name.data(),
                 static_cast<int>(c->summary.size()), c->summary.data());
  }
  std::fprintf(out, "\n");
  for (const Group& g : groups()) {
    for (const Command* c : g.commands) {
      const std::string name = absl::StrCat(av(g.name), " ", av(c->name));
      std::fprintf(out, "  %-20s %.*s\n", name.c_str(), static_cast<int>(c->summary.size()), c->summary.data());
    }
  }
  std::fprintf(out,
               "\n  ringmta-ctl GROUP --help          the commands of a group and their flags\n"
               "  ringmta-ctl GROUP COMMAND --help  one command\n"
               "  ringmta-ctl --version             the version\n\n"
               "Exit status: 0 ok, 1 a check failed (or nothing was done), 2 usage or input error.\n");
}

void print_group_help(std::FILE* out, const Group& g) {
  std::fprintf(out, "ringmta-ctl %.*s: %.*s\n", static_cast<int>(g.name.size()), g.name.data(),
               static_cast<int>(g.summary.size()), g.summary.data());
  for (const Command* c : g.commands) {
    std::fprintf(out, "\n");
    print_command_help(out, *c);
  }
}

bool help_flag(std::string_view a) { return a == "--help" || a == "-h" || a == "help"; }

// run_command: the command's --help, or its flags parsed and the command
// run. A first argument that is not a flag is its positional one
// (`show QUEUEID`, `suppress check ADDR`).
int run_command(const Command& c, int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::string positional;
  if (!args.empty() && args[0][0] != '-') {
    positional = args[0];
    args.erase(args.begin());
  }
  for (char* a : args) {
    if (help_flag(a)) {
      print_command_help(stdout, c);
      return kExitOk;
    }
  }
  Flags flags;
  if (!parse_flags(c, static_cast<int>(args.size()), args.data(), &flags)) {
    return kExitUsage;
  }
  if (!positional.empty()) {
    flags.add("", positional);
  }
  return c.run(c, flags);
}

int run(int argc, char** argv) {
  if (argc < 2) {
    print_help(stderr);
    return kExitUsage;
  }
  const std::string_view first = argv[1];
  if (help_flag(first)) {
    print_help(stdout);
    return kExitOk;
  }
  if (first == "--version") {
    std::printf("ringmta-ctl %s\n", RINGMTA_VERSION);
    return kExitOk;
  }
  for (const Command* c : queue_commands()) {
    if (c->name != first) {
      continue;
    }
    return run_command(*c, argc - 2, argv + 2);
  }
  const Group* group = nullptr;
  for (const Group& g : groups()) {
    group = g.name == first ? &g : group;
  }
  if (group == nullptr) {
    std::fprintf(stderr, "ringmta-ctl: unknown group '%s' (groups: %s; see ringmta-ctl --help)\n", argv[1],
                 group_names().c_str());
    return kExitUsage;
  }
  const auto command_names = [&] {
    return absl::StrJoin(group->commands, ", ", [](std::string* out, const Command* c) { out->append(c->name); });
  };
  if (argc < 3 || help_flag(argv[2])) {
    if (argc < 3) {
      std::fprintf(stderr, "ringmta-ctl %s: which command? (%s; see ringmta-ctl %s --help)\n", argv[1],
                   command_names().c_str(), argv[1]);
      return kExitUsage;
    }
    print_group_help(stdout, *group);
    return kExitOk;
  }
  for (const Command* c : group->commands) {
    if (c->name != argv[2]) {
      continue;
    }
    return run_command(*c, argc - 3, argv + 3);
  }
  std::fprintf(stderr, "ringmta-ctl %s: unknown command '%s' (%s commands: %s; see ringmta-ctl %s --help)\n", argv[1],
               argv[2], argv[1], command_names().c_str(), argv[1]);
  return kExitUsage;
}

}  // namespace
}  // namespace ringmta::ctl

int main(int argc, char** argv) { return ringmta::ctl::run(argc, argv); }

// tools/ctl/command.h — what a ringmta-ctl command is: a group and a name
// (`ringmta-ctl dkim keygen`), its flags, its help, and the function that
// runs it. A new command is one file that defines its Command and one line
// in main.cc's table.
//
//   const Command& dkim_keygen_command();     // dkim_keygen.cc
//   int run(const Command& c, const Flags& f) {
//     if (bad) return usage_error(c, "--bits 99: RSA keys are 1024..4096 bits");
//     ...
//   }
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::ctl {

// Exit status of every command: 0 done (every check passed), 1 done but
// something is wrong (a check failed, a file exists), 2 usage or input
// error (a flag, the config file).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct FlagSpec {
  std::string_view name;   // "domain" for --domain
  std::string_view value;  // what the value is, for --help ("D"); empty: a switch
  std::string_view help;
  bool required = false;
  bool repeatable = false;
};

// Flags: the values parse_flags found, by flag name (without "--").
class Flags {
 public:
  void add(std::string_view name, std::string value) { _values[std::string(name)].push_back(std::move(value)); }
  bool has(std::string_view name) const { return _values.find(name) != _values.end(); }
  // get: the flag's value, or `fallback` when it was not given.
  std::string get(std::string_view name, std::string_view fallback = "") const;
  // all: every value of a repeatable flag, in order.
  std::vector<std::string> all(std::string_view name) const;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> _values;
};

struct Command {
  std::string_view group;
  std::string_view name;
  std::string_view summary;      // one line, for the group's list
  std::string_view description;  // what it does and prints, for its --help
  std::vector<FlagSpec> flags;
  int (*run)(const Command& self, const Flags& flags) = nullptr;
};

struct Group {
  std::string_view name;
  std::string_view summary;
  std::vector<const Command*> commands;
};

// parse_flags reads "--name VALUE", "--name=VALUE" and switches; on an
// error it prints it (usage_error) and returns false.
bool parse_flags(const Command& c, int argc, char** argv, Flags* out);

// command_path: "dkim keygen", or "queue" for a command without a group.
std::string command_path(const Command& c);

// usage_error prints "ringmta-ctl GROUP NAME: MESSAGE" and where the help
// is to stderr, and returns kExitUsage.
int usage_error(const Command& c, std::string_view message);

// print_command_help: usage line, description, flags.
void print_command_help(std::FILE* out, const Command& c);

}  // namespace ringmta::ctl

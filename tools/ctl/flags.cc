// tools/ctl/flags.cc — flag parsing and per-command help (command.h).
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/command.h"

namespace ringmta::ctl {
namespace {

const FlagSpec* find_flag(const Command& c, std::string_view name) {
  for (const FlagSpec& f : c.flags) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

std::string flag_names(const Command& c) {
  std::string out;
  for (const FlagSpec& f : c.flags) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "--", av(f.name));
  }
  return out;
}

std::string flag_usage(const FlagSpec& f) {
  return f.value.empty() ? absl::StrCat("--", av(f.name)) : absl::StrCat("--", av(f.name), " ", av(f.value));
}

}  // namespace

std::string Flags::get(std::string_view name, std::string_view fallback) const {
  auto it = _values.find(name);
  return it == _values.end() ? std::string(fallback) : it->second.back();
}

std::vector<std::string> Flags::all(std::string_view name) const {
  auto it = _values.find(name);
  return it == _values.end() ? std::vector<std::string>{} : it->second;
}

bool parse_flags(const Command& c, int argc, char** argv, Flags* out) {
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!absl::StartsWith(av(arg), "--") || arg.size() == 2) {
      usage_error(c,
                  absl::StrCat("unexpected argument '", av(arg), "' (every input is a --flag: ", flag_names(c), ")"));
      return false;
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    const FlagSpec* f = find_flag(c, name);
    if (f == nullptr) {
      usage_error(c, absl::StrCat("unknown flag --", av(name), " (it takes ", flag_names(c), ")"));
      return false;
    }
    if (f->value.empty()) {
      if (value) {
        usage_error(c, absl::StrCat("--", av(name), " takes no value"));
        return false;
      }
      value = "";
    } else if (!value) {
      if (i + 1 >= argc) {
        usage_error(c, absl::StrCat("--", av(name), " needs a value: ", flag_usage(*f)));
        return false;
      }
      value = argv[++i];
    }
    if (out->has(name) && !f->repeatable) {
      usage_error(c, absl::StrCat("--", av(name), " given twice (it takes one value)"));
      return false;
    }
    out->add(name, std::move(*value));
  }
  for (const FlagSpec& f : c.flags) {
    if (f.required && !out->has(f.name)) {
      usage_error(c, absl::StrCat("missing ", flag_usage(f), " (", av(f.help), ")"));
      return false;
    }
  }
  return true;
}

std::string command_path(const Command& c) {
  return c.group.empty() ? std::string(c.name) : absl::StrCat(av(c.group), " ", av(c.name));
}

int usage_error(const Command& c, std::string_view message) {
  const std::string path = command_path(c);
  std::fprintf(stderr, "ringmta-ctl %s: %.*s\n(see: ringmta-ctl %s --help)\n", path.c_str(),
               static_cast<int>(message.size()), message.data(), path.c_str());
  return kExitUsage;
}

void print_command_help(std::FILE* out, const Command& c) {
  std::string usage = absl::StrCat("Usage: ringmta-ctl ", command_path(c));
  for (const FlagSpec& f : c.flags) {
    const std::string u = flag_usage(f);
    absl::StrAppend(&usage, " ", f.required ? u : absl::StrCat("[", u, "]"), f.repeatable ? "..." : "");
  }
  std::fprintf(out, "%s\n%.*s\n\n", usage.c_str(), static_cast<int>(c.summary.size()), c.summary.data());
  if (!c.description.empty()) {
    std::fprintf(out, "%.*s\n\n", static_cast<int>(c.description.size()), c.description.data());
  }
  size_t width = 0;
  for (const FlagSpec& f : c.flags) {
    width = std::max(width, flag_usage(f).size());
  }
  for (const FlagSpec& f : c.flags) {
    std::fprintf(out, "  %-*s  %.*s%s\n", static_cast<int>(width), flag_usage(f).c_str(),
                 static_cast<int>(f.help.size()), f.help.data(), f.repeatable ? " (repeat for more)" : "");
  }
  std::fprintf(out, "  %-*s  print this and exit\n", static_cast<int>(width), "--help");
}

}  // namespace ringmta::ctl

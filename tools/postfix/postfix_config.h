// tools/postfix/postfix_config.h — Postfix's main.cf and master.cf, and
// what of them maps onto ringmta's TOML, for `ringmta-ctl import-postfix`.
// Pure: text in (the files, or what `postconf -n -x` / `postconf -M`
// print, which is the same format), TOML out; table files are read through
// a callback.
//
//   PostfixParams p = parse_main_cf(main_cf_text);       // key = value, continuations, # comments
//   expand_params(&p);                                    // $name and ${name}
//   std::vector<MasterService> s = parse_master_cf(master_cf_text);
//   ImportResult r = map_postfix_config(p, s, read_file);
//   std::fputs(r.toml.c_str(), out);
//
// main.cf: "name = value"; a line starting with whitespace continues the
// previous one; lines whose first non-blank is "#" are comments. master.cf:
// one service per logical line (same continuation rule): name, type,
// private, unpriv, chroot, wakeup, maxproc, then the command and its
// arguments (-o name=value overrides).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::postfix {

using PostfixParams = std::map<std::string, std::string, std::less<>>;

struct MasterService {
  std::string name;                                           // "smtp", "127.0.0.1:2525", "submission", "relay"
  std::string type;                                           // inet, unix, unix-dgram, fifo, pass
  std::string command;                                        // smtpd, smtp, lmtp, ...
  std::map<std::string, std::string, std::less<>> overrides;  // -o name=value
};

// parse_main_cf: every "name = value" of a main.cf (or `postconf -n`).
PostfixParams parse_main_cf(std::string_view text);

// expand_params: replaces $name, ${name} and $(name) in every value with
// that parameter's (expanded) value; an unknown name expands to "".
// `defaults` (what `postconf -d` would say) fills names main.cf lacks.
void expand_params(PostfixParams* p, const PostfixParams& defaults = {});

// parse_master_cf: the services of a master.cf (or `postconf -M`).
std::vector<MasterService> parse_master_cf(std::string_view text);

// parse_postfix_time: a Postfix time value ("5d", "300s", "1h", "3w", "90")
// in seconds; `default_unit` for a bare number ('s', 'm', 'h', 'd', 'w').
// False when malformed.
bool parse_postfix_time(std::string_view text, char default_unit, int64_t* seconds);

// ReadFile: a file's text (table sources), or an error.
using ReadFile = std::function<absl::StatusOr<std::string>(const std::string& path)>;

struct ImportResult {
  std::string toml;                   // the whole file, comments included
  std::vector<std::string> unmapped;  // "name: why", also at the end of toml
};

// map_postfix_config: the ringmta TOML for a Postfix configuration. `set`
// is what main.cf sets explicitly (postconf -n), expanded; every name in it
// that has no ringmta equivalent is listed in `unmapped` with why.
ImportResult map_postfix_config(const PostfixParams& set, const std::vector<MasterService>& services,
                                const ReadFile& read_file, std::string_view source);

}  // namespace ringmta::postfix

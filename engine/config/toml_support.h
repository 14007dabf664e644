// engine/config/toml_support.h — toml++ as every TOML reader here uses it
// (the config file, the shaping and egress tables, the bounce rules), and
// the two kinds of error they report:
//
//   #include "engine/config/toml_support.h"   // never <toml++/toml.h> itself
//   if (!res) return toml_parse_error("config /etc/ringmta.toml", res.error());
//   return toml_key_error("config F: shaping.default.connection_limit", "expected ...");
//
// Debian's libtomlplusplus.so is built with exceptions; we want the
// error-returning API, so the parser is compiled header-only, the same way
// in every file that includes it.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace ringmta {

// toml_parse_error: "WHERE:LINE:COLUMN: what the parser said".
inline absl::Status toml_parse_error(std::string_view where, const toml::parse_error& e) {
  return absl::InvalidArgumentError(absl::StrCat(av(where), ":", e.source().begin.line, ":", e.source().begin.column,
                                                 ": ", av(std::string_view(e.description()))));
}

// toml_key_error: "WHERE: WHAT", where names the file and the key.
inline absl::Status toml_key_error(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(av(where), ": ", av(what)));
}

}  // namespace ringmta

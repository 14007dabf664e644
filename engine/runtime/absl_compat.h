// engine/runtime/absl_compat.h — Debian 12's abseil is built with its own
// absl::string_view (not std::string_view). Our APIs use std::string_view;
// av() converts at the boundary, for free.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace ringmta {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace ringmta

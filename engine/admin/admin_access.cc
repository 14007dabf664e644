// engine/admin/admin_access.cc — trusted networks and bearer tokens
// (admin_access.h).
#include "engine/admin/admin_access.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

absl::StatusOr<AdminAccess> AdminAccess::load(const Config& config) {
  std::vector<std::string> tokens;
  if (!config.admin_tokens_file.empty()) {
    const std::string& path = config.admin_tokens_file;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--admin-tokens-file ", path, ": ", strerror(errno)));
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
      return absl::InvalidArgumentError(absl::StrCat("--admin-tokens-file ", path,
                                                     ": readable by others; chmod 600 it"));
    }
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      std::string t(absl::StripAsciiWhitespace(line));
      if (t.empty() || t[0] == '#') {
        continue;
      }
      if (t.size() < 16) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--admin-tokens-file ", path, ": a token of ", t.size(),
            " characters is too easy to guess; use 16 or more (openssl rand -hex 32)"));
      }
      tokens.push_back(std::move(t));
    }
  }
  return AdminAccess(config.admin_trusted_networks, std::move(tokens));
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Walk the longer of the two whole; the difference in size is folded in.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

AdminAccess::Verdict AdminAccess::check(const sockaddr* peer, const std::string* authorization) const {
  if (any_contains(_trusted, peer)) {
    return Verdict::kAllowed;
  }
  if (authorization == nullptr) {
    return Verdict::kNoToken;
  }
  std::string_view v = *authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() <= kBearer.size() || !absl::EqualsIgnoreCase(av(v.substr(0, kBearer.size())), av(kBearer))) {
    return Verdict::kBadToken;
  }
  v.remove_prefix(kBearer.size());
  bool ok = false;
  for (const std::string& t : _tokens) {
    ok |= constant_time_equals(v, t);  // no early exit: every token is compared
  }
  return ok ? Verdict::kAllowed : Verdict::kBadToken;
}

}  // namespace ringmta

#include "engine/auth/auth_users.h"

#include <crypt.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

constexpr size_t kMaxUser = 255;     // as proto/sasl.h bounds the authcid
constexpr size_t kMaxFile = 16 << 20;

// equal compares in time that depends only on the lengths, so that a
// mismatch's position is not measurable.
bool equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

absl::StatusOr<AuthUsers> AuthUsers::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth-users ", path, ": cannot read the file: ", strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxFile) {
    return absl::InvalidArgumentError(absl::StrCat("--auth-users ", path, ": larger than 16 MiB"));
  }
  return parse(text.str(), absl::StrCat("--auth-users ", path));
}

absl::StatusOr<AuthUsers> AuthUsers::parse(std::string_view text, std::string_view source) {
  AuthUsers users;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(av(source), " line ", line_no, ": ", av(why)));
    };
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return bad("expected user:hash (make a hash with `mkpasswd -m yescrypt` or `openssl passwd -6`)");
    }
    std::string_view user = line.substr(0, colon);
    std::string hash(line.substr(colon + 1));
    if (user.empty() || user.size() > kMaxUser) {
      return bad("the user name must be 1 to 255 bytes");
    }
    for (char ch : user) {
      if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) {
        return bad("the user name has a space or a control character");
      }
    }
    if (hash.empty() || hash[0] != '$') {
      return bad("not a crypt hash (expected $y$... or $6$...; make one with `mkpasswd -m yescrypt`)");
    }
    switch (crypt_checksalt(hash.c_str())) {
      case CRYPT_SALT_OK:
        break;
      case CRYPT_SALT_METHOD_LEGACY:
        return bad("legacy hash (DES/MD5) refused: use yescrypt ($y$) or sha512-crypt ($6$)");
      default:
        return bad("not a crypt hash libcrypt can check (expected $y$... or $6$...)");
    }
    if (!users._hashes.emplace(std::string(user), hash).second) {
      return bad(absl::StrCat("user '", av(user), "' is listed twice"));
    }
    if (users._decoy.empty()) {
      users._decoy = hash;
    }
  }
  return users;
}

bool AuthUsers::check(std::string_view user, std::string_view password) const {
  if (_decoy.empty()) {
    return false;
  }
  auto it = _hashes.find(av(user));
  const bool known = it != _hashes.end();
  const std::string& hash = known ? it->second : _decoy;
  // crypt_data is ~32 KiB: on the heap, one per call, which also makes
  // check() safe to call from any thread.
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);  // crypt wants it NUL-terminated
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof *data);
  const bool match = out != nullptr && equal(out, hash);
  explicit_bzero(phrase.data(), phrase.size());
  explicit_bzero(data.get(), sizeof *data);
  return known && match;
}

}  // namespace ringmta

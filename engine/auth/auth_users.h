// engine/auth/auth_users.h — the SMTP AUTH user list (--auth-users FILE) and the
// password check. A file of "user:crypt-hash" lines, as /etc/shadow keeps
// them: yescrypt ($y$, Debian's default) or sha512-crypt ($6$), checked by
// libcrypt. Make a hash with `mkpasswd -m yescrypt` or `openssl passwd -6`.
//
//   absl::StatusOr<AuthUsers> users = AuthUsers::load("/etc/ringmta/users");
//   if (!users.ok()) { ... the message names the file and line ... }
//   bool ok = users->check("app1", "s3cret");   // slow by design: off-shard
//
// check() costs what the hash is tuned to cost (yescrypt: tens of ms), so
// it runs on the auth thread (engine/auth/auth_service.h), never on a shard. An
// unknown user is checked against a real hash too, so that the time taken
// does not tell which user names exist.
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace ringmta {

class AuthUsers {
 public:
  // load reads the file: "user:hash" per line; blank lines and lines
  // starting with '#' are skipped. Errors name the line: a missing ':', an
  // empty user, a duplicate user, a hash libcrypt cannot use, a legacy
  // hash (DES, MD5) that is too weak to accept.
  static absl::StatusOr<AuthUsers> load(const std::string& path);
  // parse is load on text already read; `source` names it in errors.
  static absl::StatusOr<AuthUsers> parse(std::string_view text, std::string_view source);

  // check: the password matches the user's hash. Thread-safe (crypt_rn with
  // per-call state); slow by design.
  bool check(std::string_view user, std::string_view password) const;
  size_t size() const { return _hashes.size(); }

 private:
  absl::flat_hash_map<std::string, std::string> _hashes;  // user -> crypt hash
  std::string _decoy;  // a real hash, checked for unknown users
};

}  // namespace ringmta

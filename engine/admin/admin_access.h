// engine/admin/admin_access.h — who may use the admin API: a client in
// admin.trusted_networks (loopback by default) as it is, anyone else with
// `Authorization: Bearer TOKEN` for a token of admin.tokens_file.
//
//   auto a = AdminAccess::load(config);      // main, before dropping root
//   switch (a->check(peer, req.header("Authorization"))) { ... }
//
// Tokens are compared in constant time (the time a wrong guess takes says
// nothing about how much of it was right), and a token file that is
// readable by others is refused, as ssh refuses such a key.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/inbound/cidr.h"

namespace ringmta {

class AdminAccess {
 public:
  enum class Verdict { kAllowed, kNoToken, kBadToken };

  static absl::StatusOr<AdminAccess> load(const Config& config);
  AdminAccess(std::vector<Cidr> trusted, std::vector<std::string> tokens)
      : _trusted(std::move(trusted)), _tokens(std::move(tokens)) {}

  // check: authorization is the Authorization header's value, or null.
  Verdict check(const sockaddr* peer, const std::string* authorization) const;
  size_t tokens() const { return _tokens.size(); }

 private:
  std::vector<Cidr> _trusted;
  std::vector<std::string> _tokens;
};

// constant_time_equals: a == b, in time that depends only on their sizes.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace ringmta

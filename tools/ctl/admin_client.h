// tools/ctl/admin_client.h — ringmta-ctl's HTTP/1.1 client for the
// daemon's admin API: one blocking request per call, over plain TCP.
//
//   AdminClient c(flags);   // --admin URL, --token / RINGMTA_ADMIN_TOKEN
//   absl::StatusOr<AdminReply> r = c.call("GET", "/api/v1/queues?domain=x");
//
// An error names what to check: the address, the daemon, the token.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "absl/status/statusor.h"
#include "tools/ctl/command.h"

namespace ringmta::ctl {

struct AdminReply {
  int status = 0;
  std::string body;
};

class AdminClient {
 public:
  static constexpr std::string_view kDefaultUrl = "http://127.0.0.1:8025";

  explicit AdminClient(const Flags& flags);
  // call: body, when not empty, is sent as application/json.
  absl::StatusOr<AdminReply> call(std::string_view method, std::string_view target, std::string_view body = "");
  const std::string& url() const { return _url; }

 private:
  std::string _url;
  std::string _token;
};

// request runs one call for a command: the answer's JSON, parsed, in
// *out; kExitOk, or -1 when --json printed it already (nothing more to
// do), or an exit status after printing the error (400: kExitUsage).
struct Answer {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string body;
};
int request(const Command& c, const Flags& f, std::string_view method, const std::string& target, Answer* out,
            std::string_view body = "");
// str / num: a field of an answer's object ("" / 0 when absent).
std::string_view str(simdjson::dom::element e, std::string_view key);
int64_t num(simdjson::dom::element e, std::string_view key);

// url_encode: a query parameter value.
std::string url_encode(std::string_view s);

// The flags every queue command has.
inline constexpr FlagSpec kAdminFlag{"admin", "URL", "the daemon's admin API (default http://127.0.0.1:8025)"};
inline constexpr FlagSpec kTokenFlag{"token", "TOKEN",
                                     "bearer token from admin.tokens_file (default: $RINGMTA_ADMIN_TOKEN)"};
inline constexpr FlagSpec kJsonFlag{"json", "", "print the API's JSON answer as it is"};

}  // namespace ringmta::ctl

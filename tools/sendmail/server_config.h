// tools/sendmail/server_config.h — where ringmta-sendmail submits and where
// it keeps a message when the server cannot take it.
//
//   SubmitSettings s = load_submit_settings(getenv, "-C file or empty");
//   s.host, s.port, s.maildrop; s.warnings (a bad config is reported, not fatal)
//
// Server: $RINGMTA_SERVER (HOST:PORT, [IPv6]:PORT), else `submit.server`
// in the TOML file named by -C, else $RINGMTA_CONFIG, else
// /etc/ringmta/ringmta.toml; else 127.0.0.1:2525 (ringmta's default
// listener). Maildrop: `submit.maildrop`, else `spool.dir` + "/maildrop",
// else "./ringmta-spool/maildrop" (the engine's default spool.dir). The
// admin API for -bp and -q: admin.listen's first address;
// and `submit.maildrop = ""` turns the engine's pickup off, so then there is
// no maildrop to keep a message in.
//
// A config file that cannot be read or parsed does not stop the submission:
// a message must not be lost over a typo, so the defaults apply and the
// reason goes to stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::sendmail {

inline constexpr std::string_view kDefaultConfig = "/etc/ringmta/ringmta.toml";
inline constexpr std::string_view kDefaultServer = "127.0.0.1:2525";
inline constexpr std::string_view kDefaultSpoolDir = "./ringmta-spool";

struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};

struct SubmitSettings {
  HostPort server;
  std::string server_text;  // as written, for messages
  std::string maildrop;      // "" when submit.maildrop = "" turned the pickup off
  uint64_t max_message_size = 0;  // limits.max_message_size of the config (0: not set)
  std::string admin_url;    // from admin.listen's first address, for ringmta-ctl ("" when not set)
  std::string config_path;  // the file read ("" when none)
  std::vector<std::string> warnings;
};

// parse_host_port reads "HOST:PORT" or "[V6]:PORT" (port 1..65535).
absl::StatusOr<HostPort> parse_host_port(std::string_view text);

// load_submit_settings: the lookup above. getenv is injected for tests;
// config_flag is -C's value ("" when not given).
SubmitSettings load_submit_settings(const std::function<const char*(const char*)>& getenv,
                                    const std::string& config_flag);

}  // namespace ringmta::sendmail

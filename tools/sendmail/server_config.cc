// tools/sendmail/server_config.cc — the server and maildrop lookup
// (server_config.h), reading the engine's TOML file with toml++ the way the
// engine does (engine/config/toml_support.h: header-only, no exceptions).
#include "tools/sendmail/server_config.h"

#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"

namespace ringmta::sendmail {

absl::StatusOr<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("\"", av(text), "\" is not [IPV6]:PORT"));
    }
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || text.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat("\"", av(text), "\" is not HOST:PORT"));
    }
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(av(port), &hp.port) || hp.port < 1 || hp.port > 65535 || hp.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", av(text), "\": the port must be 1..65535"));
  }
  return hp;
}

SubmitSettings load_submit_settings(const std::function<const char*(const char*)>& getenv,
                                    const std::string& config_flag) {
  SubmitSettings s;
  std::string server_text;
  std::string spool_dir;
  bool maildrop_set = false;  // submit.maildrop is in the file (perhaps "")
  // The config file: an explicit one (-C, $RINGMTA_CONFIG) must exist; the
  // default one may be absent (a machine with only the sendmail command).
  const char* env_config = getenv("RINGMTA_CONFIG");
  bool explicit_config = !config_flag.empty() || (env_config != nullptr && *env_config != '\0');
  std::string path = !config_flag.empty() ? config_flag
                     : explicit_config    ? std::string(env_config)
                                          : std::string(kDefaultConfig);
  if (explicit_config || ::access(path.c_str(), F_OK) == 0) {
    toml::parse_result res = toml::parse_file(path);
    if (!res) {
      s.warnings.push_back(absl::StrCat(toml_parse_error(absl::StrCat("config ", path), res.error()).message(),
                                        " (using the defaults)"));
    } else {
      s.config_path = path;
      toml::table& root = res.table();
      auto read_string = [&](std::string_view key, std::string* out) {
        toml::node_view<toml::node> n = root.at_path(key);
        if (!n) return false;
        if (std::optional<std::string> v = n.value<std::string>(); v && n.is_string()) {
          *out = *v;
          return true;
        }
        s.warnings.push_back(absl::StrCat("config ", path, ": ", av(key), ": expected a string (ignored)"));
        return false;
      };
      read_string("submit.server", &server_text);
      maildrop_set = read_string("submit.maildrop", &s.maildrop);
      read_string("spool.dir", &spool_dir);
      if (toml::node_view<toml::node> n = root.at_path("limits.max_message_size"); n) {
        if (std::optional<int64_t> v = n.value<int64_t>(); v && n.is_integer() && *v > 0) {
          s.max_message_size = static_cast<uint64_t>(*v);
        } else {
          s.warnings.push_back(absl::StrCat("config ", path, ": limits.max_message_size: expected a number (ignored)"));
        }
      }
      // admin.listen is a list; ringmta-ctl needs one URL. A wildcard
      // address is reached on loopback.
      if (toml::array* listen = root.at_path("admin.listen").as_array(); listen != nullptr && !listen->empty()) {
        if (std::optional<std::string> first = (*listen)[0].value<std::string>(); first && !first->empty()) {
          std::string a = *first;
          if (a.rfind("0.0.0.0:", 0) == 0) a = "127.0.0.1:" + a.substr(8);
          if (a.rfind("[::]:", 0) == 0) a = "[::1]:" + a.substr(5);
          s.admin_url = "http://" + a;
        }
      }
    }
  }
  if (const char* env = getenv("RINGMTA_SERVER"); env != nullptr && *env != '\0') server_text = env;
  if (server_text.empty()) server_text = std::string(kDefaultServer);
  absl::StatusOr<HostPort> hp = parse_host_port(server_text);
  if (!hp.ok()) {
    s.warnings.push_back(absl::StrCat("server ", hp.status().message(), " (using ", av(kDefaultServer), ")"));
    server_text = std::string(kDefaultServer);
    hp = parse_host_port(server_text);
  }
  s.server = *hp;
  s.server_text = server_text;
  if (!maildrop_set) {
    s.maildrop = absl::StrCat(av(spool_dir.empty() ? kDefaultSpoolDir : std::string_view(spool_dir)), "/maildrop");
  }
  return s;
}

}  // namespace ringmta::sendmail

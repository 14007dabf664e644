// tools/postfix/postfix_mapping.h — the state of one map_postfix_config
// call (postfix_config.h): the TOML being written, what was used, the notes
// and what could not be mapped. One method per group of settings; the
// transport_maps reader is postfix_transports.cc. Internal to tools/postfix.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/postfix/postfix_config.h"

namespace ringmta::postfix {

// Toml: section -> lines, in first-use order.
struct Toml {
  std::vector<std::pair<std::string, std::vector<std::string>>> sections;
  std::vector<std::string>& section(const std::string& name);
};

class Mapper {
 public:
  Mapper(const PostfixParams& set, const std::vector<MasterService>& services, const ReadFile& read_file)
      : _set(set), _services(services), _read_file(read_file) {}
  ImportResult run(std::string_view source);

 private:
  const std::string* get(std::string_view name) const;
  void unmapped(std::string_view name, std::string_view why);
  void listen();
  void relay();
  void relay_host();
  void transports();  // postfix_transports.cc
  void transport_entry(const std::string& key, const std::string& value);
  void limits();
  void shaping(const std::string& transport, const std::string& table);
  void render(std::string_view source);

  const PostfixParams& _set;
  const std::vector<MasterService>& _services;
  const ReadFile& _read_file;
  ImportResult _r;
  Toml _t;
  std::set<std::string, std::less<>> _used;
  std::vector<std::string> _notes;                                      // comments at the top, about mapped values
  std::vector<std::string> _routes;                                     // delivery.routes
  std::vector<std::pair<std::string, std::string>> _transport_domains;  // (domain, transport) for shaping
};

}  // namespace ringmta::postfix

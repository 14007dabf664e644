// tools/ctl/cares_dns.h — DnsLookup answered by c-ares, blocking: one
// question at a time, waited for with poll(2). A command-line tool has
// nothing else to do meanwhile; the daemon drives c-ares from its rings
// instead (engine/dns/).
//
//   absl::StatusOr<std::unique_ptr<CaresDns>> dns = CaresDns::create("127.0.0.1:5353");   // "": /etc/resolv.conf
//   DnsResult r = (*dns)->query("example.com", RrType::kTxt);
//
// Each question gets 2 tries of 2 s each (c-ares's own retry would double
// the second wait); a question with no answer after both is kTimeout, so a
// check reports it as such rather than as a missing record. Answers are
// kept for the life of the object: the SPF walk and the per-address
// evaluations ask the same names again.
#pragma once

#include <ares.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tools/ctl/dns_lookup.h"

namespace ringmta::ctl {

class CaresDns : public DnsLookup {
 public:
  static constexpr int kTimeoutMs = 2000;
  static constexpr int kTries = 2;

  static absl::StatusOr<std::unique_ptr<CaresDns>> create(const std::string& servers);
  ~CaresDns() override;
  CaresDns(const CaresDns&) = delete;
  CaresDns& operator=(const CaresDns&) = delete;

  DnsResult query(std::string_view name, RrType type) override;

 private:
  explicit CaresDns(ares_channel channel, std::string servers) : _channel(channel), _servers(std::move(servers)) {}
  DnsResult ask_once(const std::string& name, RrType type);

  ares_channel _channel;
  std::string _servers;  // for messages: what was asked
  std::map<std::pair<std::string, RrType>, DnsResult> _cache;
};

}  // namespace ringmta::ctl

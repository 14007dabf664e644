// engine/dns/dns_message.h — reads what the resolver needs out of a raw DNS
// response: the records of the asked type (following CNAMEs), their TTL,
// and the negative-caching TTL from the SOA. c-ares 1.18's ares_parse_mx_reply
// reports no TTL, so the cache would have nothing to honour without this.
//
//   auto a = parse_dns_answer(message, "example.test", kDnsTypeMx);
//   if (a.ok() && a->rcode == 0 && !a->mx.empty()) { ... a->ttl ... }
//
// Every length and count in the message is checked against its end; names
// are decoded by ares_expand_name, which bounds compression pointers.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/dns/mx_route.h"

namespace ringmta {

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeMx = 15;
inline constexpr uint16_t kDnsTypeAaaa = 28;

inline constexpr int kDnsRcodeNoError = 0;
inline constexpr int kDnsRcodeNxDomain = 3;

struct DnsAnswer {
  int rcode = 0;
  // The records of the asked type owned by the name (or the end of its
  // CNAME chain); MX fills `mx`, A and AAAA fill `addresses` (port 0).
  std::vector<MxRecord> mx;
  std::vector<sockaddr_storage> addresses;
  // ttl is the smallest TTL among the records used, CNAMEs included.
  uint32_t ttl = 0;
  // negative_ttl is min(SOA TTL, SOA minimum) from the authority section
  // (RFC 2308 §5); has_soa says whether there was one.
  uint32_t negative_ttl = 0;
  bool has_soa = false;
};

// parse_dns_answer decodes a response to a query for `qname` (lower case,
// no trailing dot) of type `qtype`.
absl::StatusOr<DnsAnswer> parse_dns_answer(std::string_view message, std::string_view qname,
                                           uint16_t qtype);

// normalize_dns_name lower-cases `name` and drops one trailing dot, so that
// cache keys and CNAME comparisons agree.
std::string normalize_dns_name(std::string_view name);

}  // namespace ringmta

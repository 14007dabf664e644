// proto/envelope.h — the value types one SMTP transaction produces.
//
// An Envelope is what MAIL FROM / RCPT TO said, plus what the session knows
// of the client. It is a plain value: spool/ serializes it, engine/ routes by
// it. Addresses are kept as validated text ("local@domain", "" for the null
// sender) because that is what every later stage (spool, DSN, event log,
// outbound MAIL FROM) needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringmta::proto {

// BodyType is MAIL FROM's BODY= parameter (RFC 6152); kUnspecified when absent.
enum class BodyType : uint8_t { kUnspecified = 0, k7Bit = 1, k8BitMime = 2 };

struct Envelope {
  std::string sender;                   // "" is the null sender <>
  std::vector<std::string> recipients;  // validated, in RCPT order, no duplicates
  BodyType body = BodyType::kUnspecified;
  bool smtputf8 = false;     // MAIL FROM carried SMTPUTF8
  uint64_t declared_size = 0;  // SIZE= value, 0 when absent
  std::string helo;          // EHLO/HELO argument
  std::string client_addr;   // "ip" of the peer, as text
  std::string auth_user;     // authenticated user, "" when none
  // What the client asked of ringmta in X-Ringmta-Pool:, X-Ringmta-Tenant:
  // and X-Ringmta-Campaign: (taken out of the content, kControlValueMax
  // octets at most, "" when absent): the egress pool to send from, and
  // whom each event of the message is for.
  std::string pool;
  std::string tenant;
  std::string campaign;
};

}  // namespace ringmta::proto

// proto/verp.h — VERP envelope senders that say, when a bounce comes back
// to them, which message and which recipient it is about, with a MAC so
// that nobody else can make one up.
//
//   std::string sender = verp_sender(secret, "bounces", "bounces.example.com",
//                                    "0123456789ABCDEF", "user@dest.example");
//   // "bounces+<mac>=0123456789ABCDEF=user=dest.example@bounces.example.com",
//   // or "" (send with the plain sender then)
//
//   // A report arrives for RCPT TO:<sender>:
//   if (std::optional<VerpMatch> m = verp_parse(secret, "bounces", "bounces.example.com", rcpt)) {
//     // m->queue_id "0123456789ABCDEF", m->recipient "user@dest.example"
//   }
//
// The local part is PREFIX+MAC=QUEUEID=LOCAL=DOMAIN, as SRS writes its
// addresses. MAC is HMAC-SHA256 (libcrypto) keyed with `secret` over
// "QUEUEID=LOCAL=DOMAIN" lower-cased, cut to 80 bits and written as 16
// lower-case base32 characters (RFC 4648 6): lower-casing makes it survive
// an MTA that changes the address's case, and 80 bits put a forgery out of
// reach of anyone who can only try addresses by sending mail.
//
// Such local parts are longer than the 64 octets of RFC 5321 4.5.3.1.1;
// real MTAs accept them (SRS depends on it). The server that takes the
// bounces must too: ringmta's sessions take them for the feedback domains
// (SessionConfig::feedback_domains, PathOptions::long_local).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ringmta::proto {

// kVerpQueueIdLength: queue ids are 16 hex digits.
inline constexpr size_t kVerpQueueIdLength = 16;
// kVerpMacLength: 80 bits in base32.
inline constexpr size_t kVerpMacLength = 16;
// kMaxVerpSender: the longest sender made, so that <sender> fits the
// 256-octet path of RFC 5321 4.5.3.1.3.
inline constexpr size_t kMaxVerpSender = 254;

// verp_sender returns the VERP sender for `recipient` ("local@domain")
// of the message `queue_id`, or "" when it cannot be made: an empty
// secret, a prefix that is not a dot-atom, a bounce domain or recipient
// domain that is not a DNS name (valid_dns_name), a queue id that is not
// 16 hex digits, a quoted local part or one with octets outside atext and
// '.' (or ".."), or a result longer than kMaxVerpSender. The queue id is
// written upper case, the recipient's domain lower case.
std::string verp_sender(std::string_view secret, std::string_view prefix, std::string_view bounce_domain,
                        std::string_view queue_id, std::string_view recipient);

struct VerpMatch {
  std::string queue_id;   // upper case
  std::string recipient;  // "local@domain", as the address holds them
};

// verp_parse reads `address` (a recipient of a returned message, with or
// without <>): nullopt unless its local part is PREFIX+... (the prefix
// compared ignoring case), its domain is `bounce_domain` (ignoring case),
// the token holds a MAC, a queue id, a local part and a domain that
// verp_sender() could have written, and the MAC verifies (compared in
// constant time, CRYPTO_memcmp). Fields are split at '=': the first is
// the MAC, the second the queue id, the last the domain (a domain has no
// '='); what is between is the local part, '=' and '+' included.
std::optional<VerpMatch> verp_parse(std::string_view secret, std::string_view prefix,
                                    std::string_view bounce_domain, std::string_view address);

}  // namespace ringmta::proto

// proto/address.h — RFC 5321 path syntax (MAIL FROM / RCPT TO arguments).
//
// parse_path() validates one bracketed path and returns views into it; the
// caller copies what it keeps with address_text(). Usage:
//
//   Address a;
//   if (parse_path("<@relay:User@Example.ORG>", {.smtputf8 = false}, &a) ==
//       PathStatus::kOk) {
//     std::string stored = address_text(a);  // "User@example.org"
//   }
//
// Source routes (<@a,@b:user@d>) are accepted and dropped (RFC 5321 4.1.2,
// C.). Non-ASCII octets are allowed only when the transaction declared
// SMTPUTF8 (RFC 6531), and must then be well-formed UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringmta::proto {

// RFC 5321 4.5.3.1: local part 64 octets, domain 255, path 256 (with <>).
inline constexpr size_t kMaxLocalPart = 64;
inline constexpr size_t kMaxDomain = 255;
inline constexpr size_t kMaxPath = 256;
inline constexpr size_t kMaxLabel = 63;

struct PathOptions {
  bool smtputf8 = false;        // non-ASCII allowed (MAIL FROM ... SMTPUTF8)
  bool allow_null = false;      // "<>" accepted (MAIL FROM only)
  bool allow_postmaster = false;  // "<postmaster>" without domain (RCPT only)
  // long_local: a local part may be longer than kMaxLocalPart (the path's
  // own bound still holds). RFC 5321 4.5.3.1 asks servers not to enforce
  // the limits where they can help it, and VERP and SRS addresses (a
  // token, then the original address) routinely exceed 64 octets.
  bool long_local = false;
};

enum class PathStatus : unsigned char {
  kOk,
  kSyntax,         // not a valid path
  kTooLong,        // a length limit of RFC 5321 4.5.3.1 was exceeded
  kNeedsSmtpUtf8,  // non-ASCII octets without SMTPUTF8 (553 5.6.7)
};

// Address is a parsed path; the views point into the parsed text.
struct Address {
  std::string_view local;   // as given, quotes included when quoted
  std::string_view domain;  // as given; empty for the null path / postmaster
  bool is_null = false;     // "<>"
  bool is_postmaster = false;  // "<postmaster>" with no domain
  bool has_utf8 = false;    // some octet >= 0x80
};

// parse_path validates `path` (which must start with '<' and end with '>').
PathStatus parse_path(std::string_view path, const PathOptions& options,
                      Address* out);

// find_path_end returns the index one past the '>' closing the path that
// starts at text[0] == '<', skipping '>' inside quoted strings, or npos.
size_t find_path_end(std::string_view text);

// address_text is the stored form: "local@domain" with the domain's ASCII
// letters lower-cased, "postmaster", or "" for the null path.
std::string address_text(const Address& address);

// valid_utf8 checks well-formedness (no overlongs, surrogates, > U+10FFFF).
bool valid_utf8(std::string_view text);

// valid_domain checks a domain name or address literal ([1.2.3.4],
// [IPv6:...]); `utf8` allows U-labels (RFC 6531).
bool valid_domain(std::string_view domain, bool utf8);

// valid_dns_name checks a plain DNS name as DKIM uses them (a d= domain, a
// selector): dot-separated labels of letters, digits, '-' and '_', 1..63
// octets each, 253 in all, no trailing dot.
bool valid_dns_name(std::string_view s);

// ascii_lower returns `text` with A-Z lower-cased (other octets kept).
std::string ascii_lower(std::string_view text);

// ascii_iequals compares ignoring the case of A-Z (SMTP verbs, keywords).
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace ringmta::proto

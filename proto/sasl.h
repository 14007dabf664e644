// proto/sasl.h — the server side of the SASL mechanisms SMTP AUTH offers
// (RFC 4954): base64 (RFC 4648), PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login). Pure functions over one response line.
//
//   SaslCredentials c;
//   switch (decode_plain("AGFsaWNlAHNlY3JldA==", &c)) {
//     case SaslStatus::kOk: check(c.user, c.password); break;
//     case SaslStatus::kBadBase64: /* 501 5.5.2 */ break;
//     ...
//   }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringmta::proto {

// RFC 4954 4: a SASL response line (and AUTH with an initial response) may
// be longer than a command line; 12288 octets is the limit it suggests.
// Counted like max_command_line: CRLF included.
inline constexpr size_t kMaxSaslLine = 12288;

// RFC 4616 2 bounds authzid, authcid and passwd to 255 octets each; LOGIN
// gets the same bounds.
inline constexpr size_t kMaxSaslField = 255;

// base64_decode decodes the RFC 4648 4 alphabet. Padding may be omitted
// (some clients do) but, when present, must be correct; no whitespace, no
// other octets, no non-zero bits after the last full octet. false on any
// error (out is then unspecified).
bool base64_decode(std::string_view in, std::string* out);

// base64_encode appends `in` in base64 with padding.
void base64_encode(std::string_view in, std::string* out);

enum class SaslStatus : unsigned char {
  kOk,
  kBadBase64,      // 501 5.5.2
  kMalformed,      // 501 5.5.2: not the mechanism's message format
  kAuthzMismatch,  // 535 5.7.8: PLAIN asked to act as someone else
};

struct SaslCredentials {
  std::string user;      // authcid; printable, valid UTF-8, 1..255 octets
  std::string password;  // 1..255 octets, no NUL
};

// decode_plain decodes a PLAIN response: base64 of
// "[authzid] NUL authcid NUL passwd". The authzid must be empty or equal
// to the authcid: we never let one user submit as another.
SaslStatus decode_plain(std::string_view response, SaslCredentials* out);

// decode_login_user and decode_login_password decode one LOGIN step.
SaslStatus decode_login_user(std::string_view response, std::string* out);
SaslStatus decode_login_password(std::string_view response, std::string* out);

// valid_sasl_user is what the session accepts as a user name: it goes
// into the envelope, the event log and our Received: header, so it must
// hold no control octet and be valid UTF-8.
bool valid_sasl_user(std::string_view user);

}  // namespace ringmta::proto

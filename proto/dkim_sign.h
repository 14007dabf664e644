// proto/dkim_sign.h — making DKIM-Signature fields (RFC 6376, RFC 8463).
// Pure: the message and the clock in, header text out.
//
//   DkimSigner s{.domain = "example.com", .selector = "s2026", .key = key};
//   std::vector<const DkimSigner*> all = {&s};
//   absl::StatusOr<std::string> h = dkim_sign(all, trace_headers, body, absl::Now());
//   stored message = *h + trace_headers + body;
//
// The message is `prefix` (header fields only, such as the Received: and
// Date: ringmta adds) followed by `content` (the client's header section,
// then the body). Every signer signs the same message; several signers
// (dual RSA + Ed25519 signing) share a body hash per canonicalization.
//
// What is signed: each name of `headers` as often as the message has it,
// plus once more (over-signing: a field of that name added on the way then
// breaks the signature, and so does one added where none was); From is
// always first among them. Never l= (a body length limit lets anyone append
// content under a valid signature).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/dkim_canon.h"
#include "proto/dkim_key.h"

namespace ringmta::proto {

// The header names signed when a configuration names none: what a bulk
// sender's mailbox providers look at (Gmail's and Yahoo's sender guides).
const std::vector<std::string>& default_signed_headers();

struct DkimSigner {
  std::string domain;    // d=, lower case
  std::string selector;  // s=
  Canon header_canon = Canon::kRelaxed;
  Canon body_canon = Canon::kRelaxed;
  std::vector<std::string> headers = default_signed_headers();
  absl::Duration expire = absl::ZeroDuration();  // x= = t= + expire; 0: no x=
  std::shared_ptr<const DkimKey> key;
};

// dkim_sign returns one DKIM-Signature field per signer, in order, each
// folded at 78 columns and ending in CRLF, to go before everything else.
absl::StatusOr<std::string> dkim_sign(std::span<const DkimSigner* const> signers, std::string_view prefix,
                                      std::string_view content, absl::Time now);

// parse_canonicalization reads "HEADER/BODY", each "relaxed" or "simple"
// (the one-word c= form is not accepted: it means "/simple", which is
// rarely what the one who writes it expects).
bool parse_canonicalization(std::string_view text, Canon* header, Canon* body);

}  // namespace ringmta::proto

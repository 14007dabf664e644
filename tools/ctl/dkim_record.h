// tools/ctl/dkim_record.h — DKIM key records, the TXT record at
// SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.1, RFC 8463 for Ed25519): read
// one from DNS text, and write the one for a key.
//
//   absl::StatusOr<DkimKeyRecord> r = parse_dkim_key_record(txt);
//   if (r.ok() && r->key_type == "rsa" && r->public_key == key.public_key_base64()) ...
//   dkim_record_text("rsa", p)   // "v=DKIM1; k=rsa; p=MIIB..."
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::ctl {

struct DkimKeyRecord {
  bool has_version = false;           // v=DKIM1 was there (it is optional)
  std::string key_type = "rsa";       // k=, "rsa" when absent
  std::string public_key;             // p=, whitespace taken out; empty: the key is revoked
  std::vector<std::string> hashes;    // h=, empty: any
  std::vector<std::string> services;  // s=, empty: "*"
  std::vector<std::string> flags;     // t= ("y": testing, "s": no subdomains)
};

// parse_dkim_key_record reads one key record (its strings already
// concatenated). Errors say what is wrong: not a tag-list, v= present but
// not first or not "DKIM1", no p= tag, a p= value that is not base64.
// Unknown tags are ignored, as RFC 6376 3.6.1 says.
absl::StatusOr<DkimKeyRecord> parse_dkim_key_record(std::string_view txt);

// accepts_sha256: h= is absent or lists sha256; serves_email: s= is absent
// or lists "email" or "*".
bool accepts_sha256(const DkimKeyRecord& r);
bool serves_email(const DkimKeyRecord& r);

// dkim_record_text: the record to publish, "v=DKIM1; k=TYPE; p=KEY".
std::string dkim_record_text(std::string_view key_type, std::string_view public_key_base64);

}  // namespace ringmta::ctl

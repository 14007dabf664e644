// engine/dkim/dkim_signers.h — the [[dkim]] keys in force: which signers
// sign a message, found by its From: domain. Immutable once built; the
// signing threads share one (std::shared_ptr) and SIGHUP swaps in another.
//
//   std::span<const proto::DkimSigner* const> s = signers.for_from("news.example.com");
//   // the [[dkim]] entries of example.com (the longest configured suffix),
//   // or those with sign_for = ["*"], or none
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proto/dkim_sign.h"

namespace ringmta {

struct DkimEntry {
  proto::DkimSigner signer;  // domain, selector, canonicalization, headers, expire, key
  std::string key_file;      // where the key came from, for the log
  // sign_for: From: domains (and their subdomains) this key signs besides
  // its own d= domain; "*" signs every message no other entry matches (an
  // ESP signing its customers' mail with its own domain).
  std::vector<std::string> sign_for;
};

class DkimSigners {
 public:
  explicit DkimSigners(std::vector<DkimEntry> entries);

  // for_from: the signers of a message from `domain` (lower case): the
  // entries of the longest configured domain that is `domain` or a parent
  // of it, else the "*" entries. Several entries of one domain: each signs
  // (dual signing), in the order of the file.
  std::span<const proto::DkimSigner* const> for_from(std::string_view domain) const;
  const std::vector<DkimEntry>& entries() const { return _entries; }

 private:
  std::vector<DkimEntry> _entries;
  absl::flat_hash_map<std::string, std::vector<const proto::DkimSigner*>> _by_domain;
  std::vector<const proto::DkimSigner*> _any;
};

}  // namespace ringmta

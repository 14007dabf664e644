// engine/suppression/suppression_entry.h — one suppression entry and how it
// is written in the store: its key (what a lookup finds it by) and its
// value (what the entry says). Pure functions, no LMDB: the store
// (suppression_store.h) keeps these bytes, the admin API and ringmta-ctl
// print them.
//
//   absl::StatusOr<SuppressionEntry> e = parse_target("Bob@Example.COM");
//   e->reason = SuppressionReason::kManual; e->time = absl::Now();
//   std::string key = entry_key(*e);      // "bob@example.com" (+ "\0" tenant)
//   std::string value = encode_value(*e);
//   ... later: decode_entry(key, value) gives the entry back.
//
// Keys: an address entry's key is its case-folded address (local part in
// ASCII lower case, domain lower case), a domain entry's key is the domain;
// the two live in separate tables. An entry for one tenant only has
// "\0" TENANT after that, so a lookup for an address finds its entries for
// every tenant next to each other (one cursor seek, then a short scan).
// The local part as given is kept in the value: "local part as given, plus
// a case-folded lookup" (most mailbox providers fold case; the few that do
// not still cannot be mailed twice through a case change).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/delivery/bounce_class.h"

namespace ringmta {

enum class SuppressionReason : uint8_t { kBounce = 1, kComplaint = 2, kUnsubscribe = 3, kManual = 4 };

std::string_view suppression_reason_name(SuppressionReason r);  // "bounce", ...
bool parse_suppression_reason(std::string_view name, SuppressionReason* out);

// Bounds, so that one entry's size is known (the value is at most ~800 B).
inline constexpr size_t kMaxSuppressionAddress = 320;  // RFC 5321: 64 + 1 + 255
inline constexpr size_t kMaxSuppressionTenant = 255;   // as X-Ringmta-Tenant: (kControlValueMax)
inline constexpr size_t kMaxSuppressionNote = 500;
// LMDB's longest key (its default build): an address with a long tenant
// can exceed it, and is refused before it reaches the store.
inline constexpr size_t kMaxSuppressionKey = 511;

struct SuppressionEntry {
  // domain_only: the entry is "@domain" and suppresses every address there.
  bool domain_only = false;
  std::string local;   // the local part as given ("" for a domain entry)
  std::string domain;  // lower case
  std::string tenant;  // "" applies to every tenant
  SuppressionReason reason = SuppressionReason::kManual;
  BounceClass bounce_class = BounceClass::kUncategorized;
  absl::Time time = absl::UnixEpoch();  // when it was added (second precision)
  std::string note;
  // source: the queue id that caused an automatic entry ("" if none).
  std::string source;

  // address: "local@domain", or "@domain" for a domain entry.
  std::string address() const;
};

// parse_target reads "local@domain" or "@domain" (what ringmta-ctl and the
// API take), trimmed of spaces and <>; an error says what is wrong. The
// rest of the entry is left at its defaults.
absl::StatusOr<SuppressionEntry> parse_target(std::string_view text);

// address_key: the case-folded lookup key of "local@domain" (no tenant);
// "" when the address has no '@'. The RCPT path calls it per recipient.
std::string address_key(std::string_view address);

// entry_key: where the entry lives (address or domain key, then "\0"
// tenant when it has one).
std::string entry_key(const SuppressionEntry& e);

std::string encode_value(const SuppressionEntry& e);
// decode_entry rebuilds an entry from its key and value; false when the
// value is not one encode_value wrote (a newer version, a damaged page).
bool decode_entry(std::string_view key, std::string_view value, bool domain_only, SuppressionEntry* out);

// refusal_text: "recipient is on the suppression list (bounce since
// 2026-12-04)" — the RCPT reply's and the injection's reason.
std::string refusal_text(const SuppressionEntry& e);

}  // namespace ringmta

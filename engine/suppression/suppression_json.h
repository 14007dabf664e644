// engine/suppression/suppression_json.h — suppression entries as the admin
// API writes and reads them (JSON), pure functions.
//
//   auto entries = parse_entries(req.body, 100000);    // StatusOr
//   std::string out; append_entry_json(&out, entry);
//
// A request body is one entry object, an array of them, or
// {"entries": [...]}. An entry:
//   {"address": "bob@example.com" | "@example.com",       required
//    "reason": "bounce|complaint|unsubscribe|manual",      default manual
//    "tenant": "acme", "note": "free text",
//    "class": "InvalidRecipient",                          a bounce class
//    "time": "2026-12-04T10:00:00Z" | 1764842400}          default now
// Unknown keys are refused (a typo must not silently drop a field); an
// error names the entry (0-based) and what is wrong.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/suppression/suppression_entry.h"

namespace ringmta {

absl::StatusOr<std::vector<SuppressionEntry>> parse_entries(std::string_view body, size_t max_entries,
                                                            absl::Time now);

// parse_time reads RFC 3339 ("2026-12-04T10:00:00Z"), a date
// ("2026-12-04", midnight UTC) or unix seconds.
bool parse_time(std::string_view text, absl::Time* out);

// append_entry_json: {"address":...,"reason":...,"class":...,"time":...,
// "tenant":...,"note":...,"source":...} (empty tenant, note, source left out).
void append_entry_json(std::string* out, const SuppressionEntry& e);

}  // namespace ringmta

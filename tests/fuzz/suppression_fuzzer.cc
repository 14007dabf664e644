// tests/fuzz/suppression_fuzzer.cc — libFuzzer harness for the suppression
// list's parsers (engine/suppression/): the admin API's JSON bodies, the
// targets ringmta-ctl and the API take, and the store's values, which a
// damaged page could hand back as anything.
//
// Input: one mode byte, then the text. Whatever the input:
//   - parse_entries never crashes; every entry it returns has a valid
//     address, bounded fields, and survives encode_value / decode_entry
//     unchanged (what is written is what is read back);
//   - parse_target's successes are keys with a lower-case domain;
//   - decode_entry on arbitrary key and value bytes never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/suppression/suppression_entry.h"
#include "engine/suppression/suppression_json.h"

namespace {

using ringmta::SuppressionEntry;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void round_trip(const SuppressionEntry& e) {
  check(e.note.size() <= ringmta::kMaxSuppressionNote && e.tenant.size() <= ringmta::kMaxSuppressionTenant);
  check(!e.domain.empty() && e.address().size() <= ringmta::kMaxSuppressionAddress + 1);
  SuppressionEntry back;
  check(ringmta::decode_entry(ringmta::entry_key(e), ringmta::encode_value(e), e.domain_only, &back));
  check(back.address() == e.address() && back.tenant == e.tenant && back.note == e.note &&
        back.reason == e.reason && back.bounce_class == e.bounce_class &&
        absl::ToUnixSeconds(back.time) == absl::ToUnixSeconds(e.time));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto entries = ringmta::parse_entries(text, 1000, absl::FromUnixSeconds(1764806400));
      if (entries.ok()) {
        for (const SuppressionEntry& e : *entries) round_trip(e);
      }
      break;
    }
    case 1: {
      auto e = ringmta::parse_target(text);
      if (e.ok()) {
        const std::string key = ringmta::entry_key(*e);
        check(key.find('@') == (e->domain_only ? std::string::npos : key.rfind('@')));
        for (char c : e->domain) check(!(c >= 'A' && c <= 'Z'));
        round_trip(*e);
      }
      break;
    }
    default: {
      const size_t cut = text.find('\n');
      const std::string_view key = text.substr(0, cut);
      const std::string_view value = cut == std::string_view::npos ? std::string_view() : text.substr(cut + 1);
      SuppressionEntry e;
      (void)ringmta::decode_entry(key, value, false, &e);
      (void)ringmta::decode_entry(key, value, true, &e);
      break;
    }
  }
  return 0;
}

// tests/fuzz/dns_record_fuzzer.cc — libFuzzer harness for ringmta-ctl's
// tag-list records and TXT strings: parse_tag_list, parse_dkim_key_record,
// is_dmarc_record / parse_dmarc_record and txt_strings (tools/ctl/).
//
// Input: one TXT record. Whatever it holds:
//   - a tag-list that parses has valid, distinct names and printable values;
//   - a DKIM key record that parses has a base64 key, and the record written
//     for that key parses back to it;
//   - a DMARC record that parses has p= none, quarantine or reject;
//   - the 255-octet strings join back to the input, none longer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/ctl/dkim_record.h"
#include "tools/ctl/dmarc_record.h"
#include "tools/ctl/tag_list.h"
#include "tools/ctl/zone_text.h"

namespace {

using namespace ringmta::ctl;

// check: abort, naming what failed, so that a crash report says which.
#define check(ok)                                                                 \
  do {                                                                            \
    if (!(ok)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #ok); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

bool base64(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
          c == '=')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string txt(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<TagList> tags = parse_tag_list(txt); tags.ok()) {
    for (size_t i = 0; i < tags->size(); ++i) {
      check(!(*tags)[i].name.empty());
      check(find_tag(*tags, (*tags)[i].name) == &(*tags)[i]);  // distinct
      for (char c : (*tags)[i].value) {
        const auto u = static_cast<unsigned char>(c);
        check(c != ';' && ((u >= 0x20 && u <= 0x7e) || c == '\t' || c == '\r' || c == '\n'));
      }
    }
  }
  if (absl::StatusOr<DkimKeyRecord> k = parse_dkim_key_record(txt); k.ok()) {
    check(base64(k->public_key));
    absl::StatusOr<DkimKeyRecord> back = parse_dkim_key_record(dkim_record_text("rsa", k->public_key));
    check(back.ok() && back->public_key == k->public_key);
  }
  if (is_dmarc_record(txt)) {
    if (absl::StatusOr<DmarcRecord> d = parse_dmarc_record(txt); d.ok()) {
      check(d->policy == "none" || d->policy == "quarantine" || d->policy == "reject");
      check(d->percent >= 0 && d->percent <= 100);
    }
  }
  std::string joined;
  for (const std::string& s : txt_strings(txt)) {
    check(s.size() <= kTxtStringMax);
    joined += s;
  }
  check(joined == txt);
  return 0;
}

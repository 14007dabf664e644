// tools/ctl/dkim_record.cc — DKIM key records (dkim_record.h).
#include "tools/ctl/dkim_record.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/tag_list.h"

namespace ringmta::ctl {
namespace {

bool base64_char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
}

// colon_list: h=, s= and t= are ':'-separated, with whitespace allowed
// around each item (RFC 6376 3.6.1).
std::vector<std::string> colon_list(std::string_view v) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(av(v), ':')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) {
      out.emplace_back(item);
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view want) {
  for (const std::string& s : list) {
    if (absl::EqualsIgnoreCase(s, av(want))) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<DkimKeyRecord> parse_dkim_key_record(std::string_view txt) {
  absl::StatusOr<TagList> tags = parse_tag_list(txt);
  if (!tags.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a DKIM key record: ", tags.status().message()));
  }
  DkimKeyRecord r;
  if (const Tag* v = find_tag(*tags, "v"); v != nullptr) {
    if (&(*tags)[0] != v) {
      return absl::InvalidArgumentError("v= must be the first tag of a DKIM key record (RFC 6376 3.6.1)");
    }
    if (v->value != "DKIM1") {
      return absl::InvalidArgumentError(absl::StrCat("v=", v->value, " is not v=DKIM1"));
    }
    r.has_version = true;
  }
  const Tag* p = find_tag(*tags, "p");
  if (p == nullptr) {
    return absl::InvalidArgumentError("no p= tag (the public key)");
  }
  for (char c : p->value) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      continue;  // FWS inside the base64 is allowed and means nothing
    }
    if (!base64_char(c)) {
      return absl::InvalidArgumentError(absl::StrCat("p= holds '", std::string(1, c), "', which is not base64"));
    }
    r.public_key += c;
  }
  if (const Tag* k = find_tag(*tags, "k"); k != nullptr) {
    r.key_type = absl::AsciiStrToLower(k->value);
  }
  if (const Tag* h = find_tag(*tags, "h"); h != nullptr) {
    r.hashes = colon_list(h->value);
  }
  if (const Tag* s = find_tag(*tags, "s"); s != nullptr) {
    r.services = colon_list(s->value);
  }
  if (const Tag* t = find_tag(*tags, "t"); t != nullptr) {
    r.flags = colon_list(t->value);
  }
  return r;
}

bool accepts_sha256(const DkimKeyRecord& r) { return r.hashes.empty() || contains(r.hashes, "sha256"); }

bool serves_email(const DkimKeyRecord& r) {
  return r.services.empty() || contains(r.services, "email") || contains(r.services, "*");
}

std::string dkim_record_text(std::string_view key_type, std::string_view public_key_base64) {
  return absl::StrCat("v=DKIM1; k=", av(key_type), "; p=", av(public_key_base64));
}

}  // namespace ringmta::ctl

// engine/suppression/suppression_entry.cc — keys and values of the
// suppression store (suppression_entry.h).
#include "engine/suppression/suppression_entry.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

// The value's layout, version 1, little-endian as the machine is (the
// store is local to one host):
//   u8 version, u8 reason, u8 class, u8 reserved, i64 unix seconds,
//   u16 length + local part, u16 length + note, u16 length + source.
constexpr uint8_t kVersion = 1;
constexpr size_t kFixed = 12;

void put_piece(std::string* out, std::string_view s) {
  const uint16_t n = static_cast<uint16_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), 2);
  out->append(s);
}

bool take_piece(std::string_view* in, std::string* out) {
  if (in->size() < 2) return false;
  uint16_t n = 0;
  std::memcpy(&n, in->data(), 2);
  if (in->size() < 2u + n) return false;
  out->assign(in->substr(2, n));
  in->remove_prefix(2u + n);
  return true;
}

bool domain_ok(std::string_view d) {
  if (d.empty() || d.size() > 255 || d.front() == '.' || d.front() == '-' || d.back() == '.' || d.back() == '-' ||
      d.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : d) {
    const unsigned char u = static_cast<unsigned char>(c);
    // Letters, digits, '-', '.', and UTF-8 (an internationalized domain).
    if (!(absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':' || u >= 0x80)) {
      return false;
    }
  }
  return true;
}

bool local_ok(std::string_view l) {
  if (l.empty() || l.size() > 64) return false;
  for (char c : l) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '@' || c == '<' || c == '>' || c == ',') return false;
  }
  return true;
}

}  // namespace

std::string_view suppression_reason_name(SuppressionReason r) {
  switch (r) {
    case SuppressionReason::kBounce:
      return "bounce";
    case SuppressionReason::kComplaint:
      return "complaint";
    case SuppressionReason::kUnsubscribe:
      return "unsubscribe";
    case SuppressionReason::kManual:
      return "manual";
  }
  return "manual";
}

bool parse_suppression_reason(std::string_view name, SuppressionReason* out) {
  for (SuppressionReason r : {SuppressionReason::kBounce, SuppressionReason::kComplaint,
                              SuppressionReason::kUnsubscribe, SuppressionReason::kManual}) {
    if (name == suppression_reason_name(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

std::string SuppressionEntry::address() const { return absl::StrCat(av(local), "@", av(domain)); }

absl::StatusOr<SuppressionEntry> parse_target(std::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(av(text));
  if (t.size() >= 2 && t.front() == '<' && t.back() == '>') {
    t = t.substr(1, t.size() - 2);
  }
  if (t.size() > kMaxSuppressionAddress) {
    return absl::InvalidArgumentError(absl::StrCat("address longer than ", kMaxSuppressionAddress, " octets"));
  }
  const size_t at = t.rfind('@');
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", t, "' is not an address: expected local@domain, or @domain for a whole domain"));
  }
  SuppressionEntry e;
  e.domain = absl::AsciiStrToLower(t.substr(at + 1));
  if (!domain_ok(e.domain)) {
    return absl::InvalidArgumentError(absl::StrCat("'", t, "': the domain is not a valid domain name"));
  }
  e.local = std::string(t.substr(0, at));
  e.domain_only = e.local.empty();
  if (!e.domain_only && !local_ok(e.local)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", t, "': the local part must be 1 to 64 printable characters without spaces"));
  }
  return e;
}

std::string address_key(std::string_view address) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return absl::AsciiStrToLower(av(address));  // RCPT already lower-cased the domain
}

std::string entry_key(const SuppressionEntry& e) {
  std::string k = e.domain_only ? e.domain : absl::AsciiStrToLower(absl::StrCat(av(e.local), "@", av(e.domain)));
  if (!e.tenant.empty()) {
    k.push_back('\0');
    k += e.tenant;
  }
  return k;
}

std::string encode_value(const SuppressionEntry& e) {
  std::string v;
  v.reserve(kFixed + 6 + e.local.size() + e.note.size() + e.source.size());
  v.push_back(static_cast<char>(kVersion));
  v.push_back(static_cast<char>(e.reason));
  v.push_back(static_cast<char>(e.bounce_class));
  v.push_back(0);
  const int64_t t = absl::ToUnixSeconds(e.time);
  v.append(reinterpret_cast<const char*>(&t), 8);
  put_piece(&v, std::string_view(e.local).substr(0, 64));
  put_piece(&v, std::string_view(e.note).substr(0, kMaxSuppressionNote));
  put_piece(&v, std::string_view(e.source).substr(0, 64));
  return v;
}

bool decode_entry(std::string_view key, std::string_view value, bool domain_only, SuppressionEntry* out) {
  if (value.size() < kFixed || static_cast<uint8_t>(value[0]) != kVersion) return false;
  SuppressionEntry e;
  e.domain_only = domain_only;
  const uint8_t reason = static_cast<uint8_t>(value[1]);
  if (reason < 1 || reason > 4 || static_cast<uint8_t>(value[2]) >= kBounceClassCount) return false;
  e.reason = static_cast<SuppressionReason>(reason);
  e.bounce_class = static_cast<BounceClass>(value[2]);
  int64_t t = 0;
  std::memcpy(&t, value.data() + 4, 8);
  e.time = absl::FromUnixSeconds(t);
  value.remove_prefix(kFixed);
  if (!take_piece(&value, &e.local) || !take_piece(&value, &e.note) || !take_piece(&value, &e.source)) {
    return false;
  }
  const size_t nul = key.find('\0');
  if (nul != std::string_view::npos) {
    e.tenant = std::string(key.substr(nul + 1));
    key = key.substr(0, nul);
  }
  if (domain_only) {
    e.domain = std::string(key);
    e.local.clear();
  } else {
    const size_t at = key.rfind('@');
    if (at == std::string_view::npos) return false;
    e.domain = std::string(key.substr(at + 1));
  }
  *out = std::move(e);
  return true;
}

std::string refusal_text(const SuppressionEntry& e) {
  return absl::StrCat("recipient is on the suppression list (", av(suppression_reason_name(e.reason)), " since ",
                      absl::FormatTime("%Y-%m-%d", e.time, absl::UTCTimeZone()), ")");
}

}  // namespace ringmta

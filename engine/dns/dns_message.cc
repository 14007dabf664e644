#include "engine/dns/dns_message.h"

#include <ares.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kClassIn = 1;
// A real answer holds a handful of records; a message claiming more is
// hostile or broken, and walking it would only cost time.
constexpr unsigned kMaxRecords = 256;
constexpr int kMaxCnameHops = 8;

struct Record {
  std::string owner;
  uint16_t type;
  uint32_t ttl;
  size_t rdata;  // offset into the message
  uint16_t rdlen;
};

uint16_t get16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Reader walks the message; every read is checked against its end.
class Reader {
 public:
  explicit Reader(std::string_view m)
      : _buf(reinterpret_cast<const unsigned char*>(m.data())), _len(m.size()) {}

  // name decodes the (possibly compressed) name at `at` and reports how many
  // bytes it takes there.
  absl::StatusOr<std::string> name(size_t at, size_t* used) const {
    if (at >= _len) {
      return absl::InvalidArgumentError("DNS message: name runs past the end");
    }
    char* s = nullptr;
    long enclen = 0;
    int r = ares_expand_name(_buf + at, _buf, static_cast<int>(_len), &s, &enclen);
    if (r != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS message: ares_expand_name: ", ares_strerror(r)));
    }
    std::string out = normalize_dns_name(s);
    ares_free_string(s);
    *used = static_cast<size_t>(enclen);
    return out;
  }

  absl::StatusOr<Record> record(size_t* at) const {
    size_t used = 0;
    absl::StatusOr<std::string> owner = name(*at, &used);
    if (!owner.ok()) {
      return owner.status();
    }
    size_t p = *at + used;
    if (_len - p < 10) {
      return absl::InvalidArgumentError("DNS message: record header runs past the end");
    }
    Record r{std::move(*owner), get16(_buf + p), get32(_buf + p + 4), p + 10, get16(_buf + p + 8)};
    uint16_t cls = get16(_buf + p + 2);
    if (_len - r.rdata < r.rdlen) {
      return absl::InvalidArgumentError("DNS message: record data runs past the end");
    }
    if (cls != kClassIn) {
      r.type = 0;  // ignored below
    }
    *at = r.rdata + r.rdlen;
    return r;
  }

  const unsigned char* at(size_t offset) const { return _buf + offset; }
  size_t size() const { return _len; }

 private:
  const unsigned char* _buf;
  size_t _len;
};

absl::Status take(const Reader& m, const Record& r, uint16_t qtype, DnsAnswer* out) {
  if (qtype == kDnsTypeMx) {
    if (r.rdlen < 3) {
      return absl::InvalidArgumentError("DNS message: MX record too short");
    }
    size_t used = 0;
    absl::StatusOr<std::string> host = m.name(r.rdata + 2, &used);
    if (!host.ok()) {
      return host.status();
    }
    out->mx.push_back(MxRecord{get16(m.at(r.rdata)), std::move(*host)});
    return absl::OkStatus();
  }
  sockaddr_storage ss{};
  if (qtype == kDnsTypeA && r.rdlen == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, m.at(r.rdata), 4);
  } else if (qtype == kDnsTypeAaaa && r.rdlen == 16) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, m.at(r.rdata), 16);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS message: address record of type ", qtype, " has length ", r.rdlen));
  }
  out->addresses.push_back(ss);
  return absl::OkStatus();
}

}  // namespace

std::string normalize_dns_name(std::string_view name) {
  std::string out = absl::AsciiStrToLower(av(name));
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

absl::StatusOr<DnsAnswer> parse_dns_answer(std::string_view message, std::string_view qname,
                                           uint16_t qtype) {
  Reader m(message);
  if (m.size() < 12) {
    return absl::InvalidArgumentError("DNS message: shorter than its header");
  }
  DnsAnswer out;
  out.rcode = m.at(3)[0] & 0x0F;
  unsigned qd = get16(m.at(4));
  unsigned an = get16(m.at(6));
  unsigned ns = get16(m.at(8));
  if (qd + an + ns > kMaxRecords) {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS message: claims ", qd + an + ns, " records"));
  }
  size_t at = 12;
  for (unsigned i = 0; i < qd; ++i) {
    size_t used = 0;
    absl::StatusOr<std::string> n = m.name(at, &used);
    if (!n.ok()) {
      return n.status();
    }
    if (m.size() - at - used < 4) {
      return absl::InvalidArgumentError("DNS message: question runs past the end");
    }
    at += used + 4;
  }
  std::vector<Record> answers;
  for (unsigned i = 0; i < an + ns; ++i) {
    absl::StatusOr<Record> r = m.record(&at);
    if (!r.ok()) {
      return r.status();
    }
    if (i < an) {
      answers.push_back(std::move(*r));
    } else if (r->type == kTypeSoa) {
      // SOA rdata: mname, rname, then serial refresh retry expire minimum.
      size_t p = r->rdata;
      size_t used = 0;
      for (int k = 0; k < 2; ++k) {
        if (!m.name(p, &used).ok()) {
          return absl::InvalidArgumentError("DNS message: bad name in SOA");
        }
        p += used;
      }
      if (p + 20 > r->rdata + r->rdlen) {
        return absl::InvalidArgumentError("DNS message: SOA record too short");
      }
      out.negative_ttl = std::min(r->ttl, get32(m.at(p + 16)));
      out.has_soa = true;
    }
  }
  // Follow the CNAME chain from the asked name; the records wanted belong
  // to its end. A record owned by some other name is not ours to trust.
  std::string name(qname);
  uint32_t ttl = UINT32_MAX;
  for (int hop = 0; hop < kMaxCnameHops; ++hop) {
    auto c = std::find_if(answers.begin(), answers.end(), [&](const Record& r) {
      return r.type == kTypeCname && r.owner == name;
    });
    if (c == answers.end()) {
      break;
    }
    size_t used = 0;
    absl::StatusOr<std::string> target = m.name(c->rdata, &used);
    if (!target.ok()) {
      return target.status();
    }
    ttl = std::min(ttl, c->ttl);
    name = std::move(*target);
  }
  for (const Record& r : answers) {
    if (r.type != qtype || r.owner != name) {
      continue;
    }
    absl::Status s = take(m, r, qtype, &out);
    if (!s.ok()) {
      return s;
    }
    ttl = std::min(ttl, r.ttl);
  }
  out.ttl = out.mx.empty() && out.addresses.empty() ? 0 : ttl;
  return out;
}

}  // namespace ringmta

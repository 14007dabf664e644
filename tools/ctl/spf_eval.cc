// tools/ctl/spf_eval.cc — check_host and the SPF record at a name (spf_eval.h).
#include "tools/ctl/spf_eval.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/spf_macro.h"

namespace ringmta::ctl {
namespace {

enum class Match { kNo, kYes, kTempError, kPermError, kUnknown };

RrType address_type(const IpAddress& ip) { return ip.v6 ? RrType::kAaaa : RrType::kA; }

bool name_within(std::string_view name, std::string_view domain) {
  return absl::EqualsIgnoreCase(av(name), av(domain)) ||
         (name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
          absl::EndsWithIgnoreCase(av(name), av(domain)));
}

// Evaluator: one check_host run, with the counters RFC 7208 4.6.4 limits
// across every record it reaches.
class Evaluator {
 public:
  Evaluator(const SpfIdentity& id, DnsLookup& dns) : _id(id), _dns(dns) {}

  SpfVerdict run() {
    SpfVerdict v;
    v.result = eval(_id.domain, 0, &v.reason);
    v.dns_terms = _dns_terms;
    v.not_evaluated = std::move(_skipped);
    v.by_all = _by_all;
    v.certain = v.not_evaluated.empty();
    if (!v.certain && !_skipped_deep) {
      // Only top-level terms were skipped: had one matched, the result
      // would have been its qualifier's; the same result is still certain.
      v.certain = true;
      for (SpfQualifier q : _skipped_top) {
        v.certain &= spf_result_of(q) == v.result;
      }
    }
    return v;
  }

 private:
  SpfResult eval(const std::string& domain, int depth, std::string* reason) {
    SpfFetch f = fetch_spf(domain, _dns);
    switch (f.kind) {
      case SpfFetch::kDnsFailed:
        *reason = absl::StrCat("TXT lookup of ", domain, ": ", f.error);
        return SpfResult::kTempError;
      case SpfFetch::kNone:
        *reason = absl::StrCat("no SPF record at ", domain);
        return SpfResult::kNone;
      case SpfFetch::kMultiple:
        *reason = absl::StrCat(domain, " has ", f.texts.size(), " v=spf1 records (RFC 7208 4.5: permerror)");
        return SpfResult::kPermError;
      case SpfFetch::kBadSyntax:
        *reason = absl::StrCat(domain, ": ", f.error);
        return SpfResult::kPermError;
      case SpfFetch::kFound:
        break;
    }
    for (const SpfTerm& t : f.record.terms) {
      if (t.queries_dns() && ++_dns_terms > kSpfMaxDnsTerms) {
        *reason = absl::StrCat("more than ", kSpfMaxDnsTerms, " DNS-querying terms (RFC 7208 4.6.4), at '", t.text,
                               "' in ", domain);
        return SpfResult::kPermError;
      }
      std::string why;
      switch (match(t, domain, depth, &why)) {
        case Match::kNo:
          continue;
        case Match::kYes:
          // An include's own deciding term has set _by_all already.
          if (t.mechanism != SpfMechanism::kInclude) {
            _by_all = t.mechanism == SpfMechanism::kAll;
          }
          *reason = absl::StrCat("'", t.text, "' in ", domain, why.empty() ? "" : " (", why, why.empty() ? "" : ")");
          return spf_result_of(t.qualifier);
        case Match::kTempError:
          *reason = why;
          return SpfResult::kTempError;
        case Match::kPermError:
          *reason = why;
          return SpfResult::kPermError;
        case Match::kUnknown:
          _skipped.push_back(absl::StrCat("'", t.text, "' in ", domain, " (", why, " is not known to a DNS check)"));
          if (depth == 0) {
            _skipped_top.push_back(t.qualifier);
          } else {
            _skipped_deep = true;
          }
          continue;
      }
    }
    if (f.record.redirect.empty()) {
      *reason = absl::StrCat("no term matched in ", domain, " and it has no 'all' (default: neutral)");
      return SpfResult::kNeutral;
    }
    if (++_dns_terms > kSpfMaxDnsTerms) {
      *reason =
          absl::StrCat("more than ", kSpfMaxDnsTerms, " DNS-querying terms (RFC 7208 4.6.4), at redirect= in ", domain);
      return SpfResult::kPermError;
    }
    SpfExpansion e = expand_domain_spec(f.record.redirect, _id, domain);
    if (e.kind == SpfExpansion::kInvalid) {
      *reason = absl::StrCat("redirect=", f.record.redirect, " in ", domain, ": ", e.why);
      return SpfResult::kPermError;
    }
    if (e.kind == SpfExpansion::kUnknown) {
      _skipped.push_back(
          absl::StrCat("redirect=", f.record.redirect, " in ", domain, " (", e.why, " is not known to a DNS check)"));
      _skipped_deep = true;
      *reason = absl::StrCat("redirect= in ", domain, " not evaluated");
      return SpfResult::kNeutral;
    }
    const SpfResult r = eval(e.name, depth + 1, reason);
    if (r == SpfResult::kNone) {
      *reason = absl::StrCat("redirect=", e.name, " in ", domain, ": ", *reason, " (RFC 7208 6.1: permerror)");
      return SpfResult::kPermError;
    }
    return r;
  }

  // target: the domain a term names, expanded, or the current one.
  Match target(const SpfTerm& t, const std::string& domain, std::string* out, std::string* why) {
    if (t.domain.empty()) {
      *out = domain;
      return Match::kYes;
    }
    SpfExpansion e = expand_domain_spec(t.domain, _id, domain);
    if (e.kind == SpfExpansion::kInvalid) {
      *why = absl::StrCat("'", t.text, "' in ", domain, ": ", e.why);
      return Match::kPermError;
    }
    if (e.kind == SpfExpansion::kUnknown) {
      *why = e.why;
      return Match::kUnknown;
    }
    *out = e.name;
    return Match::kYes;
  }

  // lookup asks DNS for a term, counting void lookups; kYes: records came.
  Match lookup(const SpfTerm& t, const std::string& name, RrType type, DnsResult* r, std::string* why) {
    *r = _dns.query(name, type);
    if (r->failed()) {
      *why = absl::StrCat("'", t.text, "': ", rr_type_name(type), " lookup of ", name, ": ", r->error);
      return Match::kTempError;
    }
    if (r->missing() || r->records.empty()) {
      if (++_voids > kSpfMaxVoidLookups) {
        *why = absl::StrCat("more than ", kSpfMaxVoidLookups,
                            " void lookups (names without records, RFC 7208 "
                            "4.6.4), the last '",
                            t.text, "': no ", rr_type_name(type), " at ", name);
        return Match::kPermError;
      }
      return Match::kNo;
    }
    return Match::kYes;
  }

  // resolves_to: a name has an address (of the checked address's family)
  // within the network; lookup failures only fail to match.
  bool resolves_to(const std::string& name, int prefix) {
    DnsResult r = _dns.query(name, address_type(_id.ip));
    for (const std::string& a : r.records) {
      std::optional<IpAddress> addr = IpAddress::parse(a);
      if (addr && _id.ip.in_network(*addr, prefix)) {
        return true;
      }
    }
    return false;
  }

  Match match(const SpfTerm& t, const std::string& domain, int depth, std::string* why) {
    const int prefix = _id.ip.v6 ? t.cidr6 : t.cidr4;
    std::string name;
    DnsResult r;
    switch (t.mechanism) {
      case SpfMechanism::kAll:
        return Match::kYes;
      case SpfMechanism::kIp4:
      case SpfMechanism::kIp6:
        return _id.ip.in_network(t.network, prefix) ? Match::kYes : Match::kNo;
      default:
        break;
    }
    if (Match m = target(t, domain, &name, why); m != Match::kYes) {
      return m;
    }
    switch (t.mechanism) {
      case SpfMechanism::kInclude:
        return include(t, domain, name, depth, why);
      case SpfMechanism::kExists:
        return lookup(t, name, RrType::kA, &r, why);
      case SpfMechanism::kA: {
        if (Match m = lookup(t, name, address_type(_id.ip), &r, why); m != Match::kYes) {
          return m;
        }
        for (const std::string& a : r.records) {
          std::optional<IpAddress> addr = IpAddress::parse(a);
          if (addr && _id.ip.in_network(*addr, prefix)) {
            return Match::kYes;
          }
        }
        return Match::kNo;
      }
      case SpfMechanism::kMx: {
        if (Match m = lookup(t, name, RrType::kMx, &r, why); m != Match::kYes) {
          return m;
        }
        if (r.records.size() > kSpfMaxNames) {
          *why = absl::StrCat("'", t.text, "': ", name, " has ", r.records.size(), " MX records, more than ",
                              kSpfMaxNames, " (RFC 7208 4.6.4: permerror)");
          return Match::kPermError;
        }
        for (const std::string& mx : r.records) {
          if (resolves_to(mx, prefix)) {
            *why = absl::StrCat("MX ", mx);
            return Match::kYes;
          }
        }
        return Match::kNo;
      }
      case SpfMechanism::kPtr: {
        // RFC 7208 5.5: the address's PTR names that resolve back to it and
        // lie within the target; a DNS error means no match.
        DnsResult ptr = _dns.query(_id.ip.reverse_name(), RrType::kPtr);
        for (size_t i = 0; i < ptr.records.size() && i < kSpfMaxNames; ++i) {
          if (name_within(ptr.records[i], name) && resolves_to(ptr.records[i], _id.ip.max_prefix())) {
            *why = absl::StrCat("PTR ", ptr.records[i]);
            return Match::kYes;
          }
        }
        return Match::kNo;
      }
      default:
        return Match::kNo;
    }
  }

  // include: RFC 7208 5.2's table: pass matches; fail, softfail and
  // neutral do not; temperror stays; permerror and none are permerror.
  Match include(const SpfTerm& t, const std::string& domain, const std::string& name, int depth, std::string* why) {
    std::string inner;
    switch (eval(name, depth + 1, &inner)) {
      case SpfResult::kPass:
        *why = inner;
        return Match::kYes;
      case SpfResult::kFail:
      case SpfResult::kSoftFail:
      case SpfResult::kNeutral:
        return Match::kNo;
      case SpfResult::kTempError:
        *why = inner;
        return Match::kTempError;
      case SpfResult::kPermError:
        *why = absl::StrCat("'", t.text, "' in ", domain, ": ", inner);
        return Match::kPermError;
      case SpfResult::kNone:
        *why = absl::StrCat("'", t.text, "' in ", domain, ": ", inner, " (RFC 7208 5.2: permerror)");
        return Match::kPermError;
    }
    return Match::kNo;
  }

  const SpfIdentity& _id;
  DnsLookup& _dns;
  int _dns_terms = 0;
  int _voids = 0;
  std::vector<std::string> _skipped;
  std::vector<SpfQualifier> _skipped_top;
  bool _skipped_deep = false;
  bool _by_all = false;
};

}  // namespace

const char* spf_result_name(SpfResult r) {
  switch (r) {
    case SpfResult::kNone:
      return "none";
    case SpfResult::kNeutral:
      return "neutral";
    case SpfResult::kPass:
      return "pass";
    case SpfResult::kFail:
      return "fail";
    case SpfResult::kSoftFail:
      return "softfail";
    case SpfResult::kTempError:
      return "temperror";
    case SpfResult::kPermError:
      return "permerror";
  }
  return "?";
}

SpfResult spf_result_of(SpfQualifier q) {
  switch (q) {
    case SpfQualifier::kPass:
      return SpfResult::kPass;
    case SpfQualifier::kFail:
      return SpfResult::kFail;
    case SpfQualifier::kSoftFail:
      return SpfResult::kSoftFail;
    case SpfQualifier::kNeutral:
      return SpfResult::kNeutral;
  }
  return SpfResult::kNeutral;
}

SpfFetch fetch_spf(std::string_view domain, DnsLookup& dns) {
  SpfFetch f;
  DnsResult r = dns.query(domain, RrType::kTxt);
  if (r.failed()) {
    f.kind = SpfFetch::kDnsFailed;
    f.error = r.error;
    return f;
  }
  for (const std::string& txt : r.records) {
    if (is_spf_record(txt)) {
      f.texts.push_back(txt);
    }
  }
  if (f.texts.empty()) {
    f.kind = SpfFetch::kNone;
    return f;
  }
  if (f.texts.size() > 1) {
    f.kind = SpfFetch::kMultiple;
    return f;
  }
  absl::StatusOr<SpfRecord> rec = parse_spf(f.texts[0]);
  if (!rec.ok()) {
    f.kind = SpfFetch::kBadSyntax;
    f.error = std::string(rec.status().message());
    return f;
  }
  f.kind = SpfFetch::kFound;
  f.record = std::move(*rec);
  return f;
}

SpfVerdict check_host(const SpfIdentity& id, DnsLookup& dns) { return Evaluator(id, dns).run(); }

}  // namespace ringmta::ctl

// tools/ctl/spf_policy.cc — the whole-policy walk (spf_policy.h).
#include "tools/ctl/spf_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

// Walker: analyze_spf's walk over every include and redirect.
class Walker {
 public:
  explicit Walker(DnsLookup& dns) : _dns(dns) {}

  void walk(const std::string& domain, const SpfRecord& r, bool on_chain, int depth, SpfPolicy* p) {
    if (on_chain) {
      // The first "all" decides for everything not listed before it; found
      // before the walk, which may stop at the lookup limit.
      for (const SpfTerm& t : r.terms) {
        if (t.mechanism == SpfMechanism::kAll) {
          p->ending = t.qualifier;
          p->ending_domain = domain;
          break;
        }
      }
    }
    for (const SpfTerm& t : r.terms) {
      // Over the limit, counting stops: one term past it is enough to say so.
      if (p->dns_terms > kSpfMaxDnsTerms) {
        return;
      }
      if (!t.queries_dns()) {
        continue;
      }
      if (++p->dns_terms > kSpfMaxDnsTerms) {
        return;
      }
      if (t.mechanism == SpfMechanism::kInclude) {
        follow(absl::StrCat("include:", t.domain), t.domain, false, depth, p);
      }
    }
    if (r.has_all() || r.redirect.empty()) {
      if (on_chain && !r.has_all()) {
        p->ending_domain = domain;  // no all, no redirect: neutral
      }
      return;
    }
    if (p->dns_terms > kSpfMaxDnsTerms || ++p->dns_terms > kSpfMaxDnsTerms) {
      return;
    }
    follow(absl::StrCat("redirect=", r.redirect), r.redirect, on_chain, depth, p);
  }

 private:
  void follow(const std::string& term, const std::string& spec, bool on_chain, int depth, SpfPolicy* p) {
    if (p->dns_terms > kSpfMaxDnsTerms || depth >= 2 * kSpfMaxDnsTerms) {
      return;
    }
    if (spec.find('%') != std::string::npos) {
      p->unresolved.push_back(absl::StrCat("'", term, "' (a macro: the name depends on the sender)"));
      if (on_chain) {
        p->ending_domain = spec;
        p->ending_known = false;
      }
      return;
    }
    std::string name = absl::AsciiStrToLower(spec);
    if (!name.empty() && name.back() == '.') {
      name.pop_back();
    }
    SpfFetch f = fetch_spf(name, _dns);
    switch (f.kind) {
      case SpfFetch::kFound:
        walk(name, f.record, on_chain, depth + 1, p);
        return;
      case SpfFetch::kNone:
        p->problems.push_back(absl::StrCat("'", term, "': no SPF record at ", name));
        break;
      case SpfFetch::kMultiple:
        p->problems.push_back(absl::StrCat("'", term, "': ", name, " has ", f.texts.size(), " v=spf1 records"));
        break;
      case SpfFetch::kBadSyntax:
        p->problems.push_back(absl::StrCat("'", term, "': ", name, ": ", f.error));
        break;
      case SpfFetch::kDnsFailed:
        p->unresolved.push_back(absl::StrCat("'", term, "' (TXT lookup of ", name, ": ", f.error, ")"));
        if (on_chain) {
          p->ending_known = false;
        }
        break;
    }
    if (on_chain) {
      p->ending_domain = name;
    }
  }

  DnsLookup& _dns;
};

}  // namespace

SpfPolicy analyze_spf(std::string_view domain, const SpfRecord& record, DnsLookup& dns) {
  SpfPolicy p;
  p.ending_domain = std::string(domain);
  Walker(dns).walk(std::string(domain), record, true, 0, &p);
  return p;
}

}  // namespace ringmta::ctl

// engine/dkim/dkim_signers.cc — finding a message's signers (dkim_signers.h).
#include "engine/dkim/dkim_signers.h"

#include "engine/runtime/absl_compat.h"

namespace ringmta {

DkimSigners::DkimSigners(std::vector<DkimEntry> entries) : _entries(std::move(entries)) {
  for (const DkimEntry& e : _entries) {
    _by_domain[e.signer.domain].push_back(&e.signer);
    for (const std::string& d : e.sign_for) {
      if (d == "*") {
        _any.push_back(&e.signer);
      } else if (d != e.signer.domain) {
        _by_domain[d].push_back(&e.signer);
      }
    }
  }
}

std::span<const proto::DkimSigner* const> DkimSigners::for_from(std::string_view domain) const {
  // example.com matches news.example.com: try the domain, then each parent.
  for (;;) {
    if (auto it = _by_domain.find(av(domain)); it != _by_domain.end()) {
      return it->second;
    }
    const size_t dot = domain.find('.');
    if (dot == std::string_view::npos || domain.empty()) {
      break;
    }
    domain.remove_prefix(dot + 1);
  }
  return _any;
}

}  // namespace ringmta

// tools/ctl/spf_macro.h — SPF macro expansion (RFC 7208 7) of a
// domain-spec, for the macros a DNS check can know: %{d} %{o} %{i} %{v}
// and %{h} (when the source's EHLO name is known), with transformers
// (%{ir}, %{d2}) and delimiters (%{l-}).
//
//   SpfExpansion e = expand_domain_spec("%{ir}.%{v}._spf.%{d}", id, "example.com");
//   e.name == "10.2.0.192.in-addr._spf.example.com"
#pragma once

#include <string>
#include <string_view>

#include "tools/ctl/spf_eval.h"

namespace ringmta::ctl {

struct SpfExpansion {
  enum Kind { kOk, kUnknown, kInvalid };
  Kind kind = kOk;
  std::string name;  // kOk: lower case, no trailing dot, at most 253 octets
  // kUnknown: the macro that needs what is not known ("%{s}"); kInvalid:
  // why the spec is a permerror.
  std::string why;
};

SpfExpansion expand_domain_spec(std::string_view spec, const SpfIdentity& id, std::string_view current_domain);

}  // namespace ringmta::ctl

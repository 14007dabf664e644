// engine/config/option_list_policy.cc — the settings of what ringmta
// refuses to send and what it reads back: the suppression list
// (suppression.*), feedback domains and VERP (feedback.*), and the bulk
// mail policy (policy.*). Entries of the one option table (option_table.h).
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/config/option_table.h"
#include "engine/delivery/bounce_class.h"

namespace ringmta::config_internal {

std::vector<Option> policy_options() {
  return {
      {"suppression", "suppression.enabled", Kind::kString, "true",
       "false: no suppression list (README \"Suppression\"): nothing is refused or dropped for it, "
       "and hard bounces add nothing",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.suppression, v); }},
      {"suppression-mode", "suppression.mode", Kind::kString, "refuse",
       "refuse: RCPT TO a suppressed address gets 550 5.7.1; drop: it is accepted and dropped with a "
       "\"suppressed\" event (for applications that cannot handle refusals)",
       [](Config& c, const std::vector<std::string>& v) {
         if (v[0] != "refuse" && v[0] != "drop") {
           return absl::InvalidArgumentError(absl::StrCat("expected refuse or drop, got '", v[0], "'"));
         }
         c.suppression_drop = v[0] == "drop";
         return absl::OkStatus();
       }},
      {"suppression-auto", "suppression.auto", Kind::kString, "true",
       "true: a final bounce of a class in --suppression-auto-classes adds its recipient to the list",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.suppression_auto, v); }},
      {"suppression-auto-classes", "suppression.auto_classes", Kind::kList,
       "InvalidRecipient,BadDomain,InactiveMailbox",
       "bounce classes (tools/bounce-classes.toml) whose final 5xx adds the recipient (replaces the default)",
       [](Config& c, const std::vector<std::string>& v) {
         c.suppression_auto_classes.clear();
         for (const std::string& name : v) {
           BounceClass k;
           if (!parse_bounce_class(name, &k)) {
             return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a bounce class (see tools/bounce-classes.toml for the names)"));
           }
           c.suppression_auto_classes.push_back(k);
         }
         return absl::OkStatus();
       }},
      {"suppression-dir", "suppression.dir", Kind::kString, "(SPOOL/suppression)",
       "directory of the suppression store (LMDB: data.mdb and lock.mdb)",
       [](Config& c, const std::vector<std::string>& v) {
         c.suppression_dir = v[0];
         return absl::OkStatus();
       }},
      {"suppression-max-size", "suppression.max_size", Kind::kUint, "8589934592",
       "most bytes the suppression store may grow to (10 million entries take about 1 GB)",
       [](Config& c, const std::vector<std::string>& v) {
         return set_uint(&c.suppression_max_size, v, uint64_t{1} << 20, uint64_t{1} << 40);
       }},
      {"feedback-domains", "feedback.domains", Kind::kList, "(none)",
       "domains whose mail is returned DSNs (RFC 3464) and complaints (ARF, RFC 5965) to read, from anyone, "
       "never relayed (README \"Suppression\")",
       [](Config& c, const std::vector<std::string>& v) {
         c.feedback_domains.clear();
         for (const std::string& d : v) {
           if (d.empty() || d.find('@') != std::string::npos || d.find(' ') != std::string::npos) {
             return absl::InvalidArgumentError(absl::StrCat("'", d, "' is not a domain (bounces.example.com)"));
           }
           c.feedback_domains.push_back(absl::AsciiStrToLower(d));
         }
         return absl::OkStatus();
       }},
      {"feedback-verp", "feedback.verp", Kind::kString, "false",
       "true: the envelope sender of outgoing mail is PREFIX+TOKEN@VERP-DOMAIN, the token an HMAC of queue id and "
       "recipient, so that a bounce names its message and recipient and a forged one is ignored (one recipient "
       "per transaction)",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.feedback_verp, v); }},
      {"feedback-verp-domain", "feedback.verp_domain", Kind::kString, "(the first of --feedback-domains)",
       "domain of the VERP envelope senders (must be one of --feedback-domains, with its MX pointing here)",
       [](Config& c, const std::vector<std::string>& v) {
         c.feedback_verp_domain = absl::AsciiStrToLower(v[0]);
         return absl::OkStatus();
       }},
      {"feedback-verp-prefix", "feedback.verp_prefix", Kind::kString, "bounces",
       "local part before the '+' of the VERP envelope senders",
       [](Config& c, const std::vector<std::string>& v) {
         if (v[0].empty() || v[0].find_first_of("@+= \"") != std::string::npos) {
           return absl::InvalidArgumentError(absl::StrCat("'", v[0], "': a plain local part without @ + = or spaces"));
         }
         c.feedback_verp_prefix = v[0];
         return absl::OkStatus();
       }},
      {"feedback-key-file", "feedback.key_file", Kind::kString, "(SPOOL/feedback.key, made at the first start)",
       "the VERP tokens' secret: 32 random bytes, readable by the daemon only; every instance that shares the "
       "feedback domains needs the same file",
       [](Config& c, const std::vector<std::string>& v) {
         c.feedback_key_file = v[0];
         return absl::OkStatus();
       }},
      {"require-list-unsubscribe", "policy.require_list_unsubscribe", Kind::kString, "false",
       "true: refuse (550 5.7.1) a message without List-Unsubscribe and List-Unsubscribe-Post: "
       "List-Unsubscribe=One-Click (RFC 8058, what Gmail and Yahoo ask of bulk mail)",
       [](Config& c, const std::vector<std::string>& v) { return set_bool(&c.require_list_unsubscribe, v); }},
  };
}

}  // namespace ringmta::config_internal

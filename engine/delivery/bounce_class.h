// engine/delivery/bounce_class.h — bounce classification: which kind of
// failure a reply is (InvalidRecipient, QuotaIssues, SpamBlock, ...), from
// a rules file of regexes over "CODE ENHANCED TEXT", first match wins
// (KumoMTA's classes and idea). The origin shard classifies every outcome
// it records; the class goes into the event log and the DSN, and is what
// suppression acts on (a hard bounce is InvalidRecipient, BadDomain, ...).
//
//   absl::StatusOr<std::shared_ptr<const BounceClassifier>> bc =
//       BounceClassifier::load_file("/etc/ringmta/bounce-classes.toml");
//   if (!bc.ok()) { print bc.status().message(); exit(2); }   // file, rule, problem
//   BounceClass k = (*bc)->classify("550 5.1.1 user unknown");  // kInvalidRecipient
//   std::string_view name = bounce_class_name(k);               // "InvalidRecipient"
//
// The rules file (tools/bounce-classes.toml is the one shipped, built into
// the binary; see shipped()):
//
//   [[rule]]
//   class = "InvalidRecipient"
//   regex = ['^5\d\d 5\.1\.1 ', '(?i)user unknown']   # or one string
//
// Regexes are RE2 (linear time: a reply from a stranger cannot make a
// match slow), compiled once at load; a loaded classifier is immutable and
// may be used from every shard at once (RE2's matching is thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringmta {

// BounceClass: KumoMTA's class names (its "MessageTooLarge/ContentRelated"
// is two classes here). kUncategorized is what no rule matched, and what a
// delivery carries.
enum class BounceClass : uint8_t {
  kUncategorized,
  kInvalidRecipient,
  kBadDomain,
  kInactiveMailbox,
  kQuotaIssues,
  kMessageTooLarge,
  kContentRelated,
  kSpamBlock,
  kSpamContent,
  kPolicyRelated,
  kAuthenticationFailed,
  kRelayDenied,
  kRoutingErrors,
  kDNSFailure,
  kNoAnswerFromHost,
  kBadConnection,
  kProtocolErrors,
  kTransientFailure,
  kMessageExpired,
};
inline constexpr size_t kBounceClassCount = 19;

// bounce_class_name is the class's name as the rules file and the event
// log spell it ("InvalidRecipient").
std::string_view bounce_class_name(BounceClass c);

// parse_bounce_class reads a name as bounce_class_name spells it (case
// matters); false for anything else.
bool parse_bounce_class(std::string_view name, BounceClass* out);

// shipped_bounce_classes is the text of tools/bounce-classes.toml as it was
// at build time (a generated source file, engine/meson.build).
std::string_view shipped_bounce_classes();

class BounceClassifier {
 public:
  // kMaxLine bounds the text a rule is matched against: the first kMaxLine
  // bytes of "CODE ENHANCED TEXT". A reply's class is in its first words;
  // the bound keeps each classification's cost fixed whatever the peer sent.
  static constexpr size_t kMaxLine = 1024;
  // Bounds on a rules file, so that a typo cannot make start-up slow.
  static constexpr size_t kMaxRules = 10000;
  static constexpr size_t kMaxPattern = 4096;

  // load_file reads and compiles a rules file. An error names the file,
  // the rule (1-based, with its line) and the problem: unreadable file,
  // TOML syntax, an unknown key or class name, a regex RE2 refuses.
  static absl::StatusOr<std::shared_ptr<const BounceClassifier>> load_file(const std::string& path);
  // load_text is load_file for text already read; `name` is what errors
  // call it.
  static absl::StatusOr<std::shared_ptr<const BounceClassifier>> load_text(std::string_view text,
                                                                            std::string_view name);
  // shipped is the built-in tools/bounce-classes.toml, compiled once per
  // process and shared.
  static absl::StatusOr<std::shared_ptr<const BounceClassifier>> shipped();

  ~BounceClassifier();
  BounceClassifier(const BounceClassifier&) = delete;
  BounceClassifier& operator=(const BounceClassifier&) = delete;

  // classify returns the class of the first rule with a regex that matches
  // (a search, not a whole-line match: anchor with ^), or kUncategorized.
  // line is "CODE ENHANCED TEXT", e.g. "550 5.1.1 user unknown"; only its
  // first kMaxLine bytes are looked at.
  BounceClass classify(std::string_view line) const;
  // classify(code, status, text) builds that line: "550 5.1.1 text", or
  // "550 text" without an enhanced status; a code outside 100..999 is
  // written "000".
  BounceClass classify(int code, std::string_view status, std::string_view text) const;

  size_t rules() const;
  size_t patterns() const;

 private:
  struct Compiled;
  explicit BounceClassifier(std::unique_ptr<Compiled> c);
  std::unique_ptr<Compiled> _c;
};

}  // namespace ringmta

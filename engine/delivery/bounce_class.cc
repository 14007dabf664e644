// engine/delivery/bounce_class.cc — the bounce classes, the rules file and
// matching (bounce_class.h).
//
// How a line is matched. Every regex of every rule goes into one
// RE2::Set, which runs one DFA over the line and names every regex that
// matched; the rule with the lowest index among them wins. That is one
// pass over at most kMaxLine bytes however many rules there are, where a
// loop over the rules' own RE2s makes one pass per regex tried (the
// shipped file has ~180). Measured with the shipped rules: 0.1-1 us a
// line with the Set, 12-14 us with the loop when the first match comes
// late or never (a reply no rule knows). Each regex is compiled on its own as well: it
// gives each pattern its own error message at load, and it is the
// fallback — a Set that does not compile, or whose DFA runs out of memory
// on a line, gives way to trying the regexes in order, which returns the
// same class.
#include "engine/delivery/bounce_class.h"

#include <fcntl.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

// A rules file is configuration, not data: a few hundred kilobytes at most.
constexpr size_t kMaxFile = 16u << 20;

re2::StringPiece piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

re2::RE2::Options regex_options() {
  re2::RE2::Options o;
  o.set_log_errors(false);  // errors come back in the load's status, not on stderr
  o.set_never_capture(true);
  return o;
}

std::string shown(std::string_view pattern) {
  constexpr size_t kShow = 120;
  return pattern.size() <= kShow ? std::string(pattern) : absl::StrCat(av(pattern.substr(0, kShow)), "...");
}

std::string all_names() {
  std::string out;
  for (size_t i = 0; i < kBounceClassCount; ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", av(bounce_class_name(static_cast<BounceClass>(i))));
  }
  return out;
}

}  // namespace

struct BounceClassifier::Compiled {
  std::vector<BounceClass> rule_class;           // per rule, in file order
  std::vector<std::unique_ptr<re2::RE2>> regex;  // per pattern, in file order
  std::vector<uint32_t> regex_rule;              // pattern -> its rule
  std::unique_ptr<re2::RE2::Set> set;            // every pattern; null if it did not compile
};

BounceClassifier::BounceClassifier(std::unique_ptr<Compiled> c) : _c(std::move(c)) {}
BounceClassifier::~BounceClassifier() = default;

size_t BounceClassifier::rules() const { return _c->rule_class.size(); }
size_t BounceClassifier::patterns() const { return _c->regex.size(); }

absl::StatusOr<std::shared_ptr<const BounceClassifier>> BounceClassifier::load_file(const std::string& path) {
  const std::string where = absl::StrCat("bounce classes ", path);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return toml_key_error(where, absl::StrCat("cannot read the file: ", strerror(errno)));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      close(fd);
      return toml_key_error(where, absl::StrCat("cannot read the file: ", strerror(err)));
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFile) {
      close(fd);
      return toml_key_error(where, absl::StrCat("larger than ", kMaxFile, " bytes: not a rules file"));
    }
  }
  close(fd);
  return load_text(text, where);
}

absl::StatusOr<std::shared_ptr<const BounceClassifier>> BounceClassifier::load_text(std::string_view text,
                                                                                    std::string_view name) {
  toml::parse_result res = toml::parse(text, name);
  if (!res) {
    return toml_parse_error(name, res.error());
  }
  const toml::table& root = res.table();
  for (const auto& [key, node] : root) {
    if (key.str() != "rule") {
      return toml_key_error(name, absl::StrCat("unknown key '", av(key.str()),
                                    "' (a rules file holds only [[rule]] tables)"));
    }
  }
  const toml::array* rules = root.get_as<toml::array>("rule");
  if (rules == nullptr || rules->empty()) {
    return toml_key_error(name, "no [[rule]] tables (each has class = \"...\" and regex = ['...'])");
  }
  if (rules->size() > kMaxRules) {
    return toml_key_error(name, absl::StrCat(rules->size(), " rules: at most ", kMaxRules));
  }
  auto c = std::make_unique<Compiled>();
  re2::RE2::Options options = regex_options();
  re2::RE2::Options set_options = options;
  // The Set's DFA covers every pattern at once: give it more room than one
  // regex gets (8 MiB); it is filled lazily, by the lines actually seen.
  set_options.set_max_mem(64 << 20);
  c->set = std::make_unique<re2::RE2::Set>(set_options, re2::RE2::UNANCHORED);
  for (size_t i = 0; i < rules->size(); ++i) {
    const toml::node& el = *rules->get(i);
    const std::string where = absl::StrCat(av(name), ": rule ", i + 1, " (line ", el.source().begin.line, ")");
    const toml::table* t = el.as_table();
    if (t == nullptr) {
      return toml_key_error(where, "must be a [[rule]] table");
    }
    for (const auto& [key, v] : *t) {
      if (key.str() != "class" && key.str() != "regex") {
        return toml_key_error(where, absl::StrCat("unknown key '", av(key.str()), "' (a rule has class and regex)"));
      }
    }
    const toml::node* klass = t->get("class");
    if (klass == nullptr || !klass->is_string()) {
      return toml_key_error(where, absl::StrCat("class = \"NAME\" is missing; NAME is one of ", all_names()));
    }
    BounceClass k;
    const std::string kname = *klass->value<std::string>();
    if (!parse_bounce_class(kname, &k)) {
      return toml_key_error(where, absl::StrCat("unknown class '", shown(kname), "' (one of ", all_names(), ")"));
    }
    std::vector<std::string> patterns;
    const toml::node* rx = t->get("regex");
    if (rx != nullptr && rx->is_string()) {
      patterns.push_back(*rx->value<std::string>());
    } else if (rx != nullptr && rx->is_array()) {
      for (const toml::node& p : *rx->as_array()) {
        if (!p.is_string()) {
          return toml_key_error(where, "regex must be a string or an array of strings");
        }
        patterns.push_back(*p.value<std::string>());
      }
    } else {
      return toml_key_error(where, "regex = ['...'] is missing (a string or an array of strings)");
    }
    if (patterns.empty()) {
      return toml_key_error(where, "regex is an empty array: the rule could never match");
    }
    const auto rule = static_cast<uint32_t>(c->rule_class.size());
    c->rule_class.push_back(k);
    for (size_t j = 0; j < patterns.size(); ++j) {
      const std::string& p = patterns[j];
      const std::string which = absl::StrCat("regex ", j + 1, " '", shown(p), "'");
      if (p.empty()) {
        return toml_key_error(where, absl::StrCat(which, ": empty (it would match every line)"));
      }
      if (p.size() > kMaxPattern) {
        return toml_key_error(where, absl::StrCat(which, ": longer than ", kMaxPattern, " bytes"));
      }
      auto re = std::make_unique<re2::RE2>(piece(p), options);
      if (!re->ok()) {
        return toml_key_error(where, absl::StrCat(which, ": ", re->error()));
      }
      std::string error;
      if (c->set->Add(piece(p), &error) < 0) {
        return toml_key_error(where, absl::StrCat(which, ": ", error));
      }
      c->regex.push_back(std::move(re));
      c->regex_rule.push_back(rule);
    }
  }
  if (!c->set->Compile()) {
    c->set.reset();  // too big for one program: classify tries the regexes in order instead
  }
  return std::shared_ptr<const BounceClassifier>(new BounceClassifier(std::move(c)));
}

absl::StatusOr<std::shared_ptr<const BounceClassifier>> BounceClassifier::shipped() {
  // Compiled on first use, once per process (a function-local static is
  // initialized exactly once, also when shards ask at the same time).
  static const absl::StatusOr<std::shared_ptr<const BounceClassifier>> kShipped =
      load_text(shipped_bounce_classes(), "tools/bounce-classes.toml (built in)");
  return kShipped;
}

BounceClass BounceClassifier::classify(std::string_view line) const {
  const Compiled& c = *_c;
  const re2::StringPiece text = piece(line.substr(0, std::min(line.size(), kMaxLine)));
  if (c.set) {
    // One vector per thread (per shard), reused: no allocation per line.
    thread_local std::vector<int> hits;
    hits.clear();
    re2::RE2::Set::ErrorInfo info{re2::RE2::Set::kNoError};
    if (c.set->Match(text, &hits, &info)) {
      uint32_t best = UINT32_MAX;
      for (int h : hits) {
        best = std::min(best, c.regex_rule[static_cast<size_t>(h)]);
      }
      if (best < c.rule_class.size()) {
        return c.rule_class[best];
      }
    } else if (info.kind == re2::RE2::Set::kNoError) {
      return BounceClass::kUncategorized;
    }
    // The DFA gave up on this line (out of memory): the loop below answers.
  }
  for (size_t i = 0; i < c.regex.size(); ++i) {
    if (re2::RE2::PartialMatch(text, *c.regex[i])) {
      return c.rule_class[c.regex_rule[i]];
    }
  }
  return BounceClass::kUncategorized;
}

BounceClass BounceClassifier::classify(int code, std::string_view status, std::string_view text) const {
  // Built in a fixed buffer: the line is cut at kMaxLine anyway.
  char line[kMaxLine];
  size_t n = 0;
  auto put = [&](std::string_view s) {
    const size_t take = std::min(s.size(), kMaxLine - n);
    std::memcpy(line + n, s.data(), take);
    n += take;
  };
  const int c = code >= 100 && code <= 999 ? code : 0;
  const char digits[3] = {static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                          static_cast<char>('0' + c % 10)};
  put(std::string_view(digits, 3));
  put(" ");
  if (!status.empty()) {
    put(status);
    put(" ");
  }
  put(text);
  return classify(std::string_view(line, n));
}

}  // namespace ringmta

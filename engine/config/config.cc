// engine/config/config.cc — parse_config: the embedded defaults, then the
// TOML file (--config, config_file.cc), then the flags, each through the one
// option table (option_table.cc), then the checks across settings
// (validate.cc). --help's text is help_text.cc.
#include "engine/config/config.h"

#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/config/config_file.h"
#include "engine/config/dkim_file.h"
#include "engine/config/option_table.h"
#include "engine/config/egress_file.h"
#include "engine/config/shaping_file.h"
#include "engine/config/validate.h"
#include "engine/config/webhook_file.h"
#include "engine/delivery/bounce_class.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

using config_internal::apply_option;
using config_internal::find_flag;
using config_internal::Kind;
using config_internal::load_config_file;
using config_internal::Option;
using config_internal::split_list;
using config_internal::validate;

absl::StatusOr<ParsedConfig> parse_config(int argc, char** argv) {
  ParsedConfig out;
  Config& c = out.config;
  for (std::string_view d : {"127.0.0.0/8", "::1/128"}) {
    c.relay_networks.push_back(*Cidr::parse(d));
    c.admin_trusted_networks.push_back(*Cidr::parse(d));
  }
  // First pass: --help, --version and --config, so that the file is applied
  // before the flags, whatever their order.
  std::vector<std::pair<const Option*, std::string>> flags;
  std::string config_file;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--check-config") {
      check_only = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(help_text().c_str(), stdout);
      out.exit_now = true;
      return out;
    }
    if (arg == "--version") {
      std::printf("ringmta %s\n", RINGMTA_VERSION);
      out.exit_now = true;
      return out;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option* opt = find_flag(sv(arg));
    if (opt == nullptr && arg != "config") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg, " (see --help)"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", arg, " needs a value"));
      }
      value = argv[++i];
    }
    if (opt == nullptr) {
      config_file = value;
    } else {
      flags.emplace_back(opt, value);
    }
  }
  if (!config_file.empty()) {
    if (access(config_file.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--config ", config_file, ": cannot read the file"));
    }
    absl::Status s = load_config_file(c, config_file);
    if (!s.ok()) {
      return s;
    }
  }
  bool listen_replaced = false;
  for (auto& [opt, value] : flags) {
    if (opt->flag == std::string_view("listen") && !listen_replaced) {
      c.listen.clear();  // the first --listen replaces the default or the file's list
      listen_replaced = true;
    }
    std::vector<std::string> vals =
        opt->kind == Kind::kList ? split_list(value) : std::vector<std::string>{value};
    if (vals.empty() && opt->kind != Kind::kList) {
      vals.push_back("");
    }
    absl::Status s = apply_option(c, *opt, vals, absl::StrCat("--", opt->flag));
    if (!s.ok()) {
      return s;
    }
  }
  c.config_file = config_file;
  absl::StatusOr<Shaping> shaping = load_shaping(config_file, c.shaping_file);
  if (!shaping.ok()) {
    return shaping.status();
  }
  c.shaping = std::move(*shaping);
  absl::StatusOr<Egress> egress = load_egress(config_file);
  if (!egress.ok()) {
    return egress.status();
  }
  c.egress = std::move(*egress);
  absl::StatusOr<std::shared_ptr<const DkimSigners>> dkim = load_dkim(config_file);
  if (!dkim.ok()) {
    return dkim.status();  // names the file, the [[dkim]] entry and the key's problem; main exits 2
  }
  c.dkim = std::move(*dkim);
  absl::StatusOr<std::vector<Webhook>> hooks = load_webhooks(config_file);
  if (!hooks.ok()) {
    return hooks.status();  // names the file, the [[webhook]] entry and the key
  }
  c.webhooks = std::move(*hooks);
  absl::StatusOr<std::shared_ptr<const BounceClassifier>> classes =
      c.bounce_classes_file.empty() ? BounceClassifier::shipped() : BounceClassifier::load_file(c.bounce_classes_file);
  if (!classes.ok()) {
    return classes.status();  // names the file, the rule and the problem; main exits 2
  }
  c.bounce_classifier = std::move(*classes);
  if (c.suppression_dir.empty()) {
    c.suppression_dir = c.spool_dir + "/suppression";
  }
  if (c.maildrop_is_default) {
    c.maildrop_dir = c.spool_dir + "/maildrop";
  }
  if (c.feedback_key_file.empty()) {
    c.feedback_key_file = c.spool_dir + "/feedback.key";
  }
  if (c.feedback_verp_domain.empty() && !c.feedback_domains.empty()) {
    c.feedback_verp_domain = c.feedback_domains.front();
  }
  if (absl::Status s = validate(c); !s.ok()) {
    return s;
  }
  if (check_only) {
    // Only what parse_config reads (TLS keys, users and the spool are read
    // at start): the settings, the tables and the files they name.
    if (config_file.empty()) {
      std::puts("ringmta: configuration OK (flags and defaults, no --config)");
    } else {
      std::printf("ringmta: %s: configuration OK\n", config_file.c_str());
    }
    out.exit_now = true;
  }
  return out;
}

}  // namespace ringmta

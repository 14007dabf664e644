// tools/ctl/dkim_keygen.cc — `ringmta-ctl dkim keygen`: make a DKIM key,
// write its private half where ringmta reads it, and print what to publish
// in DNS and what to paste into ringmta.toml.
//
// The key file is created with O_EXCL and mode 0600: an existing file is
// never replaced (a key in use that is overwritten breaks every signature
// until DNS catches up), and no other user can read it at any moment.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "proto/dkim_key.h"
#include "tools/ctl/command.h"
#include "tools/ctl/commands.h"
#include "tools/ctl/dkim_record.h"
#include "tools/ctl/dns_name.h"
#include "tools/ctl/zone_text.h"

namespace ringmta::ctl {
namespace {

using proto::DkimAlgorithm;
using proto::DkimKey;

// toml_string: a TOML basic string ("..." with '"' and '\' escaped).
std::string toml_string(std::string_view s) { return quoted(s); }

// write_new_file writes `text` to a file that must not exist yet, mode 0600.
absl::Status write_new_file(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  }
  // The umask can only take bits away; fchmod makes it exactly 0600.
  absl::Status st = fchmod(fd, 0600) == 0 ? absl::OkStatus() : absl::ErrnoToStatus(errno, "fchmod");
  for (size_t done = 0; st.ok() && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno != EINTR) {
      st = absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
    }
    done += n > 0 ? static_cast<size_t>(n) : 0;
  }
  if (st.ok() && fsync(fd) != 0) {
    st = absl::ErrnoToStatus(errno, absl::StrCat("fsync ", path));
  }
  close(fd);
  if (!st.ok()) {
    unlink(path.c_str());  // never leave half a key behind
  }
  return st;
}

void print_result(const std::string& domain, const std::string& selector, const std::string& path, const DkimKey& key) {
  const bool rsa = key.algorithm() == DkimAlgorithm::kRsaSha256;
  const std::string name = absl::StrCat(selector, "._domainkey.", domain, ".");
  const std::string value = dkim_record_text(rsa ? "rsa" : "ed25519", key.public_key_base64());
  std::printf("Wrote the %s private key (%d bits) to %s (mode 0600).\n",
              std::string(proto::algorithm_name(key.algorithm())).c_str(), key.bits(), path.c_str());
  std::printf(
      "ringmta reads it as root at start and as its --user on SIGHUP: chown that user (ringmta) for reloads.\n\n");
  std::printf("Publish this TXT record in the DNS of %s:\n  name:  %s\n  value: %s\n\n", domain.c_str(), name.c_str(),
              value.c_str());
  std::printf("In a zone file (strings of at most %zu octets, which receivers join):\n%s\n\n", kTxtStringMax,
              zone_txt_block(name, value).c_str());
  std::printf("Add this to ringmta.toml:\n[[dkim]]\ndomain = %s\nselector = %s\nkey = %s\nalgorithm = %s\n\n",
              toml_string(domain).c_str(), toml_string(selector).c_str(), toml_string(path).c_str(),
              toml_string(proto::algorithm_name(key.algorithm())).c_str());
  std::printf("Once the record is published: ringmta-ctl dns check --domain %s --config ringmta.toml\n",
              domain.c_str());
}

int run(const Command& c, const Flags& f) {
  const std::string domain = normal_domain(f.get("domain"));
  const std::string selector = f.get("selector");
  if (!valid_dns_name(domain)) {
    return usage_error(c, absl::StrCat("--domain '", f.get("domain"), "' is not a domain name (e.g. example.com)"));
  }
  if (!valid_dns_name(selector)) {
    return usage_error(
        c, absl::StrCat("--selector '", selector, "' is not a selector (letters, digits, '-', '_', '.'; e.g. s2026)"));
  }
  DkimAlgorithm alg;
  if (!proto::parse_algorithm(f.get("algorithm", "rsa-sha256"), &alg)) {
    return usage_error(c, absl::StrCat("--algorithm '", f.get("algorithm"), "': use rsa-sha256 or ed25519-sha256"));
  }
  int bits = 2048;
  if (f.has("bits")) {
    if (alg != DkimAlgorithm::kRsaSha256) {
      return usage_error(c, "--bits is for rsa-sha256 keys (an Ed25519 key is always 256 bits): drop it");
    }
    if (!absl::SimpleAtoi(f.get("bits"), &bits) || bits < DkimKey::kMinRsaBits || bits > DkimKey::kMaxRsaBits) {
      return usage_error(c, absl::StrCat("--bits ", f.get("bits"), ": RSA keys are ", DkimKey::kMinRsaBits, "..",
                                         DkimKey::kMaxRsaBits, " bits (2048 is what receivers expect)"));
    }
  }
  const std::string out = f.get("out");
  char dir[PATH_MAX];
  struct stat st;
  if (realpath(out.c_str(), dir) == nullptr) {
    return usage_error(
        c, absl::StrCat("--out ", out, ": ", strerror(errno), " (create it first: mkdir -m 700 ", out, ")"));
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return usage_error(c, absl::StrCat("--out ", out, ": not a directory (it names where the key file goes)"));
  }
  const std::string path = absl::StrCat(dir, "/", domain, ".", selector, ".key");
  // Before making the key: an RSA-4096 key takes seconds to find.
  if (lstat(path.c_str(), &st) == 0) {
    std::fprintf(stderr,
                 "ringmta-ctl dkim keygen: %s exists; refusing to overwrite it (a key in use must not be replaced: "
                 "move it away, or choose another --selector)\n",
                 path.c_str());
    return kExitFailed;
  }
  absl::StatusOr<DkimKey> key = DkimKey::generate(alg, bits);
  if (!key.ok()) {
    std::fprintf(stderr, "ringmta-ctl dkim keygen: %s\n", std::string(key.status().message()).c_str());
    return kExitFailed;
  }
  if (absl::Status w = write_new_file(path, key->private_pem()); !w.ok()) {
    const bool exists = absl::IsAlreadyExists(w);
    std::fprintf(stderr, "ringmta-ctl dkim keygen: %s%s\n", std::string(w.message()).c_str(),
                 exists ? " (refusing to overwrite it)" : "");
    return kExitFailed;
  }
  print_result(domain, selector, path, *key);
  return kExitOk;
}

}  // namespace

const Command& dkim_keygen_command() {
  static const Command kCommand{
      .group = "dkim",
      .name = "keygen",
      .summary = "make a DKIM key: the key file, its DNS TXT record, its [[dkim]] block",
      .description =
          "Writes the private key (PKCS#8 PEM) to DIR/DOMAIN.SELECTOR.key with mode 0600,\n"
          "refusing to replace a file that exists, and prints the TXT record to publish at\n"
          "SELECTOR._domainkey.DOMAIN (on one line, and as a zone file's strings of at most\n"
          "255 octets) and the [[dkim]] block for ringmta.toml.\n\n"
          "Example: ringmta-ctl dkim keygen --domain example.com --selector s2026 --out /etc/ringmta/dkim",
      .flags =
          {{.name = "domain", .value = "D", .help = "the domain that signs (d=), e.g. example.com", .required = true},
           {.name = "selector", .value = "S", .help = "the selector (s=), e.g. s2026", .required = true},
           {.name = "algorithm", .value = "A", .help = "rsa-sha256 (default) or ed25519-sha256"},
           {.name = "bits", .value = "N", .help = "RSA key size, 1024..4096 (default 2048)"},
           {.name = "out", .value = "DIR", .help = "the directory the key file goes to", .required = true}},
      .run = run,
  };
  return kCommand;
}

}  // namespace ringmta::ctl

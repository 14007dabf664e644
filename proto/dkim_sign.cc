// proto/dkim_sign.cc — DKIM-Signature fields (dkim_sign.h).
#include "proto/dkim_sign.h"

#include <openssl/evp.h>

#include <array>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/address.h"

namespace ringmta::proto {
namespace {

constexpr size_t kWidth = 78;  // RFC 5322 2.1.1's recommended line length

// Folder writes a header field, folding (CRLF TAB) before an atom that
// would pass kWidth. A tab counts as one column: near enough for a limit
// that is a recommendation.
class Folder {
 public:
  explicit Folder(std::string* out) : _out(out) {}
  void raw(std::string_view s) {
    _out->append(s);
    _col += s.size();
  }
  void fold() {
    _out->append("\r\n\t");
    _col = 1;
  }
  // atom writes s, folding first when it would not fit on this line.
  void atom(std::string_view s) {
    if (_col > 1 && _col + s.size() > kWidth) {
      fold();
    }
    raw(s);
  }
  // tag ends the previous tag with ";" and starts `s` after a space or a fold.
  void tag(std::string_view s) {
    raw(";");
    if (_col + 1 + s.size() > kWidth) {
      fold();
    } else {
      raw(" ");
    }
    raw(s);
  }
  // split writes a long value (base64) in pieces that fill each line.
  void split(std::string_view s) {
    while (!s.empty()) {
      if (_col >= kWidth - 8) {
        fold();
      }
      size_t n = std::min(s.size(), kWidth - _col);
      raw(s.substr(0, n));
      s.remove_prefix(n);
    }
  }

 private:
  std::string* _out;
  size_t _col = 0;
};

std::string_view canon_name(Canon c) { return c == Canon::kSimple ? "simple" : "relaxed"; }

// body_hash: base64 SHA-256 of the canonical body.
std::string body_hash(Canon c, std::string_view body) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  canon_body(c, body, [ctx](std::string_view piece) { EVP_DigestUpdate(ctx, piece.data(), piece.size()); });
  unsigned char d[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, d, &n);
  EVP_MD_CTX_free(ctx);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(d), n));
}

// signed_names: From first, then each configured name as often as the
// message has it plus once (over-signing), in the order configured.
std::vector<std::string> signed_names(const std::vector<HeaderField>& fields, const std::vector<std::string>& cfg) {
  std::vector<std::string> order = {"From"};
  for (const std::string& n : cfg) {
    bool seen = false;
    for (const std::string& o : order) {
      seen = seen || ascii_iequals(o, n);
    }
    if (!seen) {
      order.push_back(n);
    }
  }
  std::vector<std::string> names;
  for (const std::string& n : order) {
    size_t count = 0;
    for (const HeaderField& f : fields) {
      count += ascii_iequals(f.name, n) ? 1 : 0;
    }
    const std::string lowered = ascii_lower(n);
    for (size_t i = 0; i <= count; ++i) {
      names.push_back(lowered);
    }
  }
  return names;
}

absl::StatusOr<std::string> sign_one(const DkimSigner& s, const std::vector<HeaderField>& fields,
                                     std::string_view bh, absl::Time now) {
  const std::vector<std::string> names = signed_names(fields, s.headers);
  const int64_t t = absl::ToUnixSeconds(now);
  std::string field;
  Folder f(&field);
  f.raw("DKIM-Signature: v=1");
  f.tag("a=" + std::string(algorithm_name(s.key->algorithm())));
  f.tag("c=" + std::string(canon_name(s.header_canon)) + "/" + std::string(canon_name(s.body_canon)));
  f.tag(absl::StrCat("d=", s.domain));
  f.tag(absl::StrCat("s=", s.selector));
  f.tag(absl::StrCat("t=", t));
  if (s.expire > absl::ZeroDuration()) {
    f.tag(absl::StrCat("x=", t + absl::ToInt64Seconds(s.expire)));
  }
  f.tag(absl::StrCat("h=", names[0]));
  for (size_t i = 1; i < names.size(); ++i) {
    f.atom(absl::StrCat(":", names[i]));
  }
  f.tag("bh=" + std::string(bh));
  f.tag("b=");

  // The header hash input: the signed fields bottom-up (5.4.2), then this
  // field with an empty b= and no CRLF (3.7).
  std::string input;
  for (const HeaderField* h : select_signed_headers(fields, names)) {
    if (h != nullptr) {
      canon_header(s.header_canon, *h, &input);
    }
  }
  canon_header(s.header_canon, HeaderField{"DKIM-Signature", field}, &input);
  if (s.header_canon == Canon::kRelaxed) {
    input.resize(input.size() - 2);  // canon_header's CRLF
  }
  absl::StatusOr<std::string> sig = s.key->sign(input);
  if (!sig.ok()) {
    return sig.status();
  }
  f.split(absl::Base64Escape(*sig));
  field.append("\r\n");
  return field;
}

}  // namespace

const std::vector<std::string>& default_signed_headers() {
  static const std::vector<std::string> names = {
      "From",    "To",           "Subject",          "Date",
      "Message-ID", "Reply-To",  "Cc",               "MIME-Version",
      "Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID"};
  return names;
}

absl::StatusOr<std::string> dkim_sign(std::span<const DkimSigner* const> signers, std::string_view prefix,
                                      std::string_view content, absl::Time now) {
  std::vector<HeaderField> fields = split_header_fields(prefix);
  size_t body_start = 0;
  std::vector<HeaderField> own = split_header_fields(content, &body_start);
  fields.insert(fields.end(), own.begin(), own.end());
  const std::string_view body = content.substr(body_start);

  std::array<std::optional<std::string>, 2> bh;  // per body canonicalization
  std::string out;
  for (const DkimSigner* s : signers) {
    std::optional<std::string>& h = bh[s->body_canon == Canon::kSimple ? 0 : 1];
    if (!h) {
      h = body_hash(s->body_canon, body);
    }
    absl::StatusOr<std::string> one = sign_one(*s, fields, *h, now);
    if (!one.ok()) {
      return one.status();
    }
    out.append(*one);
  }
  return out;
}

bool parse_canonicalization(std::string_view text, Canon* header, Canon* body) {
  auto one = [](std::string_view w, Canon* out) {
    if (w == "simple") {
      *out = Canon::kSimple;
    } else if (w == "relaxed") {
      *out = Canon::kRelaxed;
    } else {
      return false;
    }
    return true;
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  return one(text.substr(0, slash), header) && one(text.substr(slash + 1), body);
}

}  // namespace ringmta::proto

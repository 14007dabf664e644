// proto/dkim_key.cc — DKIM keys with libcrypto, Ed25519 signing with
// wolfCrypt (dkim_key.h).
#include "proto/dkim_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/dkim_ed25519.h"

namespace ringmta::proto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return "unknown error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

struct DkimKey::Impl {
  Pkey pkey;
  DkimAlgorithm algorithm = DkimAlgorithm::kRsaSha256;
  int bits = 0;
  std::unique_ptr<dkim_internal::Ed25519Signer> ed;  // Ed25519 keys only
};

std::string_view algorithm_name(DkimAlgorithm a) {
  return a == DkimAlgorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

bool parse_algorithm(std::string_view text, DkimAlgorithm* out) {
  if (text == "rsa-sha256") {
    *out = DkimAlgorithm::kRsaSha256;
  } else if (text == "ed25519-sha256") {
    *out = DkimAlgorithm::kEd25519Sha256;
  } else {
    return false;
  }
  return true;
}

DkimKey::DkimKey(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}
DkimKey::DkimKey(DkimKey&&) noexcept = default;
DkimKey& DkimKey::operator=(DkimKey&&) noexcept = default;
DkimKey::~DkimKey() = default;

DkimAlgorithm DkimKey::algorithm() const { return _impl->algorithm; }
int DkimKey::bits() const { return _impl->bits; }

// adopt checks an EVP_PKEY for DKIM use and wraps it.
static absl::StatusOr<DkimKey> adopt(Pkey pkey) {
  auto impl = std::make_unique<DkimKey::Impl>();
  const int id = EVP_PKEY_get_base_id(pkey.get());
  if (id == EVP_PKEY_RSA) {
    impl->algorithm = DkimAlgorithm::kRsaSha256;
    impl->bits = EVP_PKEY_get_bits(pkey.get());
    if (impl->bits < DkimKey::kMinRsaBits || impl->bits > DkimKey::kMaxRsaBits) {
      return absl::InvalidArgumentError(absl::StrCat("an RSA key of ", impl->bits, " bits; DKIM wants ",
                                                     DkimKey::kMinRsaBits, "..", DkimKey::kMaxRsaBits,
                                                     " (2048 is the usual choice)"));
    }
  } else if (id == EVP_PKEY_ED25519) {
    impl->algorithm = DkimAlgorithm::kEd25519Sha256;
    impl->bits = 256;
    uint8_t priv[32];
    uint8_t pub[32];
    size_t plen = sizeof priv;
    size_t publen = sizeof pub;
    if (EVP_PKEY_get_raw_private_key(pkey.get(), priv, &plen) != 1 ||
        EVP_PKEY_get_raw_public_key(pkey.get(), pub, &publen) != 1 || plen != 32 || publen != 32) {
      return absl::InvalidArgumentError("an Ed25519 key without its raw private half");
    }
    impl->ed = dkim_internal::Ed25519Signer::create(priv, pub);
    OPENSSL_cleanse(priv, sizeof priv);
    if (impl->ed == nullptr) {
      return absl::InvalidArgumentError("wolfCrypt refused the Ed25519 key");
    }
  } else {
    return absl::InvalidArgumentError("not an RSA or Ed25519 private key (DKIM signs with rsa-sha256 or "
                                      "ed25519-sha256)");
  }
  impl->pkey = std::move(pkey);
  return DkimKey(std::move(impl));
}

absl::StatusOr<DkimKey> DkimKey::from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError("out of memory");
  }
  // No passphrase callback: an encrypted key fails here instead of asking
  // a terminal the daemon does not have.
  Pkey pkey(PEM_read_bio_PrivateKey(bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  BIO_free(bio);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PEM private key, or an encrypted one (", openssl_error(), ")"));
  }
  return adopt(std::move(pkey));
}

absl::StatusOr<DkimKey> DkimKey::generate(DkimAlgorithm a, int bits) {
  EVP_PKEY* p = nullptr;
  if (a == DkimAlgorithm::kRsaSha256) {
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("--bits ", bits, ": RSA keys are ", kMinRsaBits, "..", kMaxRsaBits, " bits"));
    }
    p = EVP_RSA_gen(static_cast<unsigned>(bits));
  } else {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    if (ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1) {
      EVP_PKEY_keygen(ctx, &p);
    }
    EVP_PKEY_CTX_free(ctx);
  }
  if (p == nullptr) {
    return absl::InternalError(absl::StrCat("key generation failed: ", openssl_error()));
  }
  return adopt(Pkey(p));
}

std::string DkimKey::private_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio != nullptr && PEM_write_bio_PrivateKey(bio, _impl->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

std::string DkimKey::public_key_base64() const {
  std::string raw;
  if (_impl->algorithm == DkimAlgorithm::kEd25519Sha256) {
    uint8_t pub[32];
    size_t n = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(_impl->pkey.get(), pub, &n) == 1) {
      raw.assign(reinterpret_cast<const char*>(pub), n);
    }
  } else {
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(_impl->pkey.get(), &der);
    if (n > 0) {
      raw.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
    }
    OPENSSL_free(der);
  }
  return absl::Base64Escape(raw);
}

absl::StatusOr<std::string> DkimKey::sign(std::string_view data) const {
  if (_impl->algorithm == DkimAlgorithm::kEd25519Sha256) {
    const std::string digest = sha256(data);
    uint8_t sig[64];
    if (!_impl->ed->sign(reinterpret_cast<const uint8_t*>(digest.data()), digest.size(), sig)) {
      return absl::InternalError("Ed25519 signing failed");
    }
    return std::string(reinterpret_cast<const char*>(sig), sizeof sig);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(_impl->pkey.get())), '\0');
  size_t n = sig.size();
  const bool ok = ctx != nullptr &&
                  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, _impl->pkey.get()) == 1 &&
                  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                                 reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    return absl::InternalError(absl::StrCat("RSA signing failed: ", openssl_error()));
  }
  sig.resize(n);
  return sig;
}

std::string sha256(std::string_view data) {
  unsigned char d[32];
  EVP_Digest(data.data(), data.size(), d, nullptr, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

}  // namespace ringmta::proto

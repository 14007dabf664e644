// proto/dkim_ed25519.cc — Ed25519 signing with wolfCrypt (dkim_ed25519.h).
#include "proto/dkim_ed25519.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>

namespace ringmta::proto::dkim_internal {

struct Ed25519Signer::Key {
  ed25519_key k;
};

Ed25519Signer::Ed25519Signer() : _key(std::make_unique<Key>()) {}

Ed25519Signer::~Ed25519Signer() { wc_ed25519_free(&_key->k); }

std::unique_ptr<Ed25519Signer> Ed25519Signer::create(const uint8_t priv[32], const uint8_t pub[32]) {
  std::unique_ptr<Ed25519Signer> s(new Ed25519Signer());
  if (wc_ed25519_init(&s->_key->k) != 0 ||
      wc_ed25519_import_private_key(priv, ED25519_KEY_SIZE, pub, ED25519_PUB_KEY_SIZE, &s->_key->k) != 0) {
    return nullptr;
  }
  return s;
}

bool Ed25519Signer::sign(const uint8_t* msg, size_t len, uint8_t sig[64]) const {
  word32 n = ED25519_SIG_SIZE;
  // wc_ed25519_sign_msg takes a non-const key but only reads it (Debian's
  // build has no WOLFSSL_ED25519_PERSISTENT_SHA), so concurrent signs with
  // one key are safe.
  return wc_ed25519_sign_msg(msg, static_cast<word32>(len), sig, &n, &_key->k) == 0 && n == ED25519_SIG_SIZE;
}

}  // namespace ringmta::proto::dkim_internal

// proto/dkim_ed25519.cc — Ed25519 signing with wolfCrypt (dkim_ed25519.h).
#include "proto/dkim_ed25519.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>

#include <cstring>

namespace ringmta::proto::dkim_internal {

// The key pair, checked once by create(). Each sign() imports it afresh
// into a key of its own: Debian's wolfSSL keeps a SHA-512 state inside
// ed25519_key while signing (settings.h turns WOLFSSL_ED25519_PERSISTENT_SHA
// on with streaming verify), so one ed25519_key cannot sign on two threads
// at once. A trusted import is a copy (bench/dkim_crypto_benchmark:
// import and sign together take no longer than the sign alone).
struct Ed25519Signer::Key {
  uint8_t priv[ED25519_KEY_SIZE];
  uint8_t pub[ED25519_PUB_KEY_SIZE];
};

Ed25519Signer::Ed25519Signer() : _key(std::make_unique<Key>()) {}

Ed25519Signer::~Ed25519Signer() { explicit_bzero(_key->priv, sizeof _key->priv); }

std::unique_ptr<Ed25519Signer> Ed25519Signer::create(const uint8_t priv[32], const uint8_t pub[32]) {
  std::unique_ptr<Ed25519Signer> s(new Ed25519Signer());
  std::memcpy(s->_key->priv, priv, ED25519_KEY_SIZE);
  std::memcpy(s->_key->pub, pub, ED25519_PUB_KEY_SIZE);
  ed25519_key k;
  // Untrusted import: wolfCrypt checks that pub belongs to priv.
  const bool ok = wc_ed25519_init(&k) == 0 &&
                  wc_ed25519_import_private_key(priv, ED25519_KEY_SIZE, pub, ED25519_PUB_KEY_SIZE, &k) == 0;
  wc_ed25519_free(&k);
  return ok ? std::move(s) : nullptr;
}

bool Ed25519Signer::sign(const uint8_t* msg, size_t len, uint8_t sig[64]) const {
  ed25519_key k;
  word32 n = ED25519_SIG_SIZE;
  const bool ok =
      wc_ed25519_init(&k) == 0 &&
      wc_ed25519_import_private_key_ex(_key->priv, ED25519_KEY_SIZE, _key->pub, ED25519_PUB_KEY_SIZE, &k, 1) == 0 &&
      wc_ed25519_sign_msg(msg, static_cast<word32>(len), sig, &n, &k) == 0 && n == ED25519_SIG_SIZE;
  wc_ed25519_free(&k);  // wipes the key
  return ok;
}

}  // namespace ringmta::proto::dkim_internal
